"""R2I / IR2I: progressive binary coding of 32x32 blocks (Baig, Koltun, Torresani).

Reading order: `binarizer` -> `stage` -> `models` -> `inpainting` -> `ir2i` -> `codec`
(the SavedModel) -> `bitstream`, `scan` and `saved_codec` (files) -> `train`, `cli`.
"""
