"""What the evaluation needs from a codec, and how codecs are found by name.

A codec turns one image into one or more rate-distortion points. Classic codecs give one
point per quality setting; a progressive learned codec (R2I) gives one per stage from a
single encode. `roundtrips` covers both, so the Kodak evaluation has one loop for all.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
from typing import Callable, Dict, List, Protocol, Union

import numpy as np

from compression_eval.errors import UserError

Setting = Union[int, float, str]


@dataclasses.dataclass(frozen=True)
class Roundtrip:
  """One encode/decode of one image at one setting."""
  setting: Setting
  num_bits: int  # of the bytes actually written, headers included
  reconstruction: np.ndarray  # uint8 (H, W, 3)
  encode_seconds: float
  decode_seconds: float


class Codec(Protocol):
  """A codec under evaluation."""
  name: str  # short, used for file names and table rows
  description: str  # says which library and version, as CompressAI's JSON does

  def roundtrips(self, image: np.ndarray) -> List[Roundtrip]:
    """Codes a uint8 RGB image at every setting of this codec."""


# Codec specs are `name` or `name:argument` (e.g. a model path). Factories are named as
# "module:function" so that loading the classic codecs never imports TensorFlow models.
_FACTORIES: Dict[str, str] = {
    "jpeg": "compression_eval.baselines:jpeg",
    "jpeg2000": "compression_eval.baselines:jpeg2000",
    "webp": "compression_eval.baselines:webp",
    "avif": "compression_eval.baselines:avif",
    "deepsic": "deepsic_tf.evaluation:deepsic",  # deepsic:PATH to a codec SavedModel
    "r2i": "r2i_tf.evaluation:r2i",  # r2i:PATH to a codec SavedModel, one point per stage
    "r2i-ec": "r2i_tf.evaluation:r2i_entropy_coded",  # the same, bits range-coded
}


def available() -> List[str]:
  return sorted(_FACTORIES)


def make_codec(spec: str) -> Codec:
  """Builds the codec a spec such as `jpeg` or `r2i:saved_models/r2i` names."""
  name, _, argument = spec.strip().partition(":")
  if name not in _FACTORIES:
    raise UserError(f"unknown codec {spec!r}; choose from {', '.join(available())}")
  module_name, function_name = _FACTORIES[name].split(":")
  factory: Callable[..., Codec] = getattr(importlib.import_module(module_name), function_name)
  takes_argument = bool(inspect.signature(factory).parameters)
  if takes_argument != bool(argument):
    raise UserError(f"codec {name!r} is written {name}:PATH" if takes_argument else
                    f"codec {name!r} takes no argument, not {argument!r}")
  return factory(argument) if argument else factory()
