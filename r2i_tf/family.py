"""R2I and IR2I as the layers above see them: their files and presets, and how to load,
export and evaluate a model (`compression_eval.family`).

The functions import R2I's TensorFlow code when they are called, so that importing this
module (to list models, or to refuse a bad command line) loads no TensorFlow.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

from compression_eval.family import Family
from r2i_tf.bitstream import MAGIC
from r2i_tf.config import InpainterConfig, coder_config_from_json
from r2i_tf.presets import PRESETS


def _not_a_codec(config_text: str) -> Optional[str]:
  try:
    coder_config_from_json(config_text)
  except (ValueError, TypeError, KeyError):
    InpainterConfig.from_json(config_text)  # raises for another family's config
    return ("an inpainting network trained alone, not a codec; train IR2I with it "
            "(--variant ir2i-separate --inpainter RUN)")
  return None


def _load_model(folder: Path):
  from r2i_tf.train import load_model  # pylint: disable=import-outside-toplevel
  return load_model(folder)


def _export_codec(model, folder: Path) -> None:
  from r2i_tf.codec import export  # pylint: disable=import-outside-toplevel
  export(model, str(folder))


def _export(model, output: Path) -> List[str]:
  """The codec alone: it holds standard ops only, so TF Serving loads it as it is."""
  _export_codec(model, output / "codec")
  return [f"{output / 'codec'}: {type(model).__name__} codec (standard ops only, servable by "
          f"TF Serving); use it with python -m r2i_tf"]


def _model_id(model) -> int:
  from r2i_tf.codec import model_id  # pylint: disable=import-outside-toplevel
  return model_id(model)


def _evaluation_codec(entropy_coded: bool):
  """`r2i:PATH` (the paper's uncoded bits) or `r2i-ec:PATH` (range-coded): a point per stage."""
  def factory(path: str):
    from r2i_tf.evaluation import R2IEvalCodec  # pylint: disable=import-outside-toplevel
    return R2IEvalCodec(path, entropy_coded=entropy_coded)
  return factory


FAMILY = Family(
    name="r2i", title="R2I", package="r2i_tf", extension=".r2i", magic=MAGIC,
    train_script="scripts/train_r2i.py", presets=PRESETS, not_a_codec=_not_a_codec,
    load_model=_load_model, export_codec=_export_codec, export=_export, model_id=_model_id,
    evaluation_codecs={"r2i": _evaluation_codec(False), "r2i-ec": _evaluation_codec(True)})
