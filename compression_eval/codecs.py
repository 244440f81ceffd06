"""What the evaluation needs from a codec.

A codec turns one image into one or more rate-distortion points. Classic codecs give one
point per quality setting; a progressive learned codec (R2I) gives one per stage from a
single encode. `roundtrips` covers both, so the evaluation has one loop for all. Which
codec a name means is the registry's business (`compression_zoo.registry`), above the
model packages.
"""
from __future__ import annotations

import dataclasses
from typing import List, Protocol, Tuple, Union

import numpy as np

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


class FileCodec(Codec, Protocol):
  """A codec that also hands over its files, for a figure that shows what a file decodes
  to (DeepSIC's Fig. 5): `roundtrips` gives each setting's size and image, not its bytes."""
  extension: str  # of its files, with the dot (".jpg")

  def files(self, image: np.ndarray) -> List[Tuple[Setting, bytes]]:
    """The file of a uint8 RGB image at every setting of this codec."""

  def decode(self, data: bytes) -> np.ndarray:
    """The uint8 RGB image (H, W, 3) that one of this codec's files decodes to."""
