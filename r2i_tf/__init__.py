"""R2I / IR2I: progressive binary coding of 32x32 blocks (Baig, Koltun, Torresani).

Reading order: `binarizer` -> `stage` -> `models` -> `codec` (the SavedModel) ->
`bitstream` and `saved_codec` (files) -> `train`, `cli`.
"""
