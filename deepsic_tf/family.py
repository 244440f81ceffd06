"""DeepSIC as the layers above see it: its files and presets, and how to load, export and
evaluate a model (`compression_eval.family`).

Every function imports DeepSIC's TensorFlow code when it is called, so that importing
this module (to list models, or to refuse a bad command line) loads no TensorFlow.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

from compression_eval.family import Family
from deepsic_tf.config import DeepSICConfig
from deepsic_tf.presets import PRESETS

# `deepsic_tf.bitstream.MAGIC`, written out: that module loads TensorFlow (a test checks
# that the two agree).
MAGIC = b"DSIC"


def _not_a_codec(config_text: str) -> Optional[str]:
  if DeepSICConfig.from_json(config_text).architecture == "reference":
    return "the uncompressed reference classifier, which has no codec to export"
  return None


def _load_model(folder: Path):
  from deepsic_tf.train import load_model  # pylint: disable=import-outside-toplevel
  return load_model(folder)


def _export_codec(model, folder: Path) -> None:
  from deepsic_tf.codec import export  # pylint: disable=import-outside-toplevel
  export(model, str(folder))


def _export(model, output: Path) -> List[str]:
  """The codec, and the serving model that TF Serving can load (standard ops only)."""
  from deepsic_tf import serving  # pylint: disable=import-outside-toplevel
  _export_codec(model, output / "codec")
  serving.export(model, str(output / "serving"))
  return [f"{output / 'codec'}: full codec (compress / decompress / classify on files); "
          "load after `import tensorflow_compression`",
          f"{output / 'serving'}: TF Serving model, standard ops only (serving_default: images "
          "-> codes + class scores; decode; classify_codes); entropy coding stays in the client"]


def _model_id(model) -> int:
  from deepsic_tf.codec import model_id  # pylint: disable=import-outside-toplevel
  return model_id(model)


def _evaluation_codec(path: str):
  """`deepsic:PATH`: one model is one rate-distortion point."""
  from deepsic_tf.evaluation import DeepSICEvalCodec  # pylint: disable=import-outside-toplevel
  return DeepSICEvalCodec(path)


FAMILY = Family(name="deepsic", title="DeepSIC", package="deepsic_tf", extension=".dsic",
                magic=MAGIC, train_script="scripts/train_deepsic.py", presets=PRESETS,
                not_a_codec=_not_a_codec, load_model=_load_model, export_codec=_export_codec,
                export=_export, model_id=_model_id,
                evaluation_codecs={"deepsic": _evaluation_codec})
