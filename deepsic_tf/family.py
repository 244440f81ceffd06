"""DeepSIC as the layers above see it: its files and presets, and how to load, export and
evaluate a model (`compression_eval.family`).

The functions import DeepSIC's TensorFlow code when they are called, so that importing
this module (to list models, or to refuse a bad command line) loads no TensorFlow.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

from compression_eval.family import Family, lazy
from deepsic_tf.config import DeepSICConfig
from deepsic_tf.presets import PRESETS

# `deepsic_tf.bitstream.MAGIC`, written out: that module loads TensorFlow (a test checks
# that the two agree).
MAGIC = b"DSIC"


def _not_a_codec(config_text: str) -> Optional[str]:
  if DeepSICConfig.from_json(config_text).architecture == "reference":
    return "the uncompressed reference classifier, which has no codec to export"
  return None


def _export(model, output: Path) -> List[str]:
  """The codec, and a serving model that TF Serving can load (standard ops only)."""
  from deepsic_tf import codec, serving  # pylint: disable=import-outside-toplevel
  codec.export(model, output / "codec")
  lines = [f"{output / 'codec'}: full codec (compress / decompress / classify on files); "
           "load after `import tensorflow_compression`"]
  if model.hyperprior:
    return lines + ["no TF Serving model: the serving export codes factorized models only "
                    "(this one has a hyperprior; train with --entropy-model factorized for one)"]
  serving.export(model, output / "serving")
  return lines + [
      f"{output / 'serving'}: TF Serving model, standard ops only (serving_default: images "
      "-> codes + class scores; decode; classify_codes); entropy coding stays in the client"]


FAMILY = Family(name="deepsic", title="DeepSIC", package="deepsic_tf", extension=".dsic",
                magic=MAGIC, train_script="scripts/train_deepsic.py", presets=PRESETS,
                not_a_codec=_not_a_codec, load_model=lazy("deepsic_tf.train:load_model"),
                export_codec=lazy("deepsic_tf.codec:export"), export=_export,
                model_id=lazy("deepsic_tf.codec:model_id"),
                # `deepsic:PATH`: one model is one rate-distortion point;
                # `deepsic-context:PATH`: the same, context-coded.
                evaluation_codecs={"deepsic": lazy("deepsic_tf.evaluation:DeepSICEvalCodec"),
                                   "deepsic-context": lazy(
                                       "deepsic_tf.evaluation:context_coded_codec")})
