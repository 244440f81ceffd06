"""R2I and IR2I as the layers above see them: their files and presets, and how to load,
export and evaluate a model (`compression_eval.family`).

The functions import R2I's TensorFlow code when they are called, so that importing this
module (to list models, or to refuse a bad command line) loads no TensorFlow.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import List, Optional

from compression_eval.family import Family, lazy
from r2i_tf.bitstream import MAGIC
from r2i_tf.config import InpainterConfig, coder_config_from_json, first_code_suffix
from r2i_tf.presets import PRESETS

_export_codec = lazy("r2i_tf.codec:export")
_evaluation_codec = lazy("r2i_tf.evaluation:R2IEvalCodec")


def _not_a_codec(config_text: str) -> Optional[str]:
  try:
    coder_config_from_json(config_text)
  except (ValueError, TypeError, KeyError):
    InpainterConfig.from_json(config_text)  # raises for another family's config
    return ("an inpainting network trained alone, not a codec; train IR2I with it "
            "(--variant ir2i-separate --inpainter RUN)")
  return None


def _export(model, output: Path) -> List[str]:
  """The codec alone: it holds standard ops only, so TF Serving loads it as it is."""
  _export_codec(model, output / "codec")
  return [f"{output / 'codec'}: {type(model).__name__} codec (standard ops only, servable by "
          "TF Serving); use it with python -m r2i_tf"]


FAMILY = Family(
    name="r2i", title="R2I", package="r2i_tf", extension=".r2i", magic=MAGIC,
    train_script="scripts/train_r2i.py", presets=PRESETS, not_a_codec=_not_a_codec,
    load_model=lazy("r2i_tf.train:load_model"), export_codec=_export_codec, export=_export,
    model_id=lazy("r2i_tf.codec:model_id"),
    # `r2i:PATH`: the paper's uncoded bits, a point per stage; `r2i-ec:PATH`: range-coded
    # with the adaptive model, `r2i-learned:PATH` with the learned bit model; `-first1`:
    # IR2I with a first code of one stage (docs/ir2i_first_code.md).
    evaluation_codecs={
        f"r2i{suffix}{first_code_suffix(first) if first else ''}": functools.partial(
            _evaluation_codec, entropy_coded=coding, first_code_stages=first)
        for suffix, coding in (("", "raw"), ("-ec", "adaptive"), ("-learned", "learned"))
        for first in (None, 1)})
