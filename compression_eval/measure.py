"""Measuring a codec on images: one record per setting and image, averaged into a curve.

Here the codec is an object already built; `compression_zoo.evaluate` runs the same
measurement from a codec's name, in worker processes where that pays.
"""
from __future__ import annotations

import hashlib
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from compression_eval.codecs import Codec
from compression_eval.metrics import Reference
from compression_eval.rd import RDCurve, average_by_setting

NamedImage = Tuple[str, np.ndarray]
Record = Dict[str, float]


class ImageMetrics:
  """Every metric of reconstructions of one image, each distinct set of pixels measured once.

  The original's side of the metrics is computed once (`metrics.Reference`), and a
  reconstruction whose pixels were measured already takes its figures again: the codings
  of one model's bits (R2I raw and range-coded, DeepSIC with either entropy model) decode
  to the same pixels.
  """

  def __init__(self, image: np.ndarray):
    self._reference = Reference(image)
    self._known: Dict[bytes, Dict[str, float]] = {}

  def __call__(self, reconstruction: np.ndarray) -> Dict[str, float]:
    digest = hashlib.blake2b(
        f"{reconstruction.dtype.str}{reconstruction.shape}".encode() + reconstruction.tobytes(),
        digest_size=16).digest()
    if digest not in self._known:
      self._known[digest] = self._reference.metrics(reconstruction)
    return dict(self._known[digest])


def measure(codec: Codec, image: np.ndarray,
            metrics: Optional[ImageMetrics] = None) -> List[Record]:
  """One record per setting for one image: bpp, every metric, and coding times.

  `metrics`: the `ImageMetrics` of this image, to share its measured pixels between codecs.
  """
  metrics = metrics or ImageMetrics(image)
  height, width = image.shape[:2]
  records = []
  for roundtrip in codec.roundtrips(image):
    if roundtrip.reconstruction.shape != image.shape:
      raise ValueError(f"{codec.name} returned shape {roundtrip.reconstruction.shape} "
                       f"for an image of shape {image.shape}")
    records.append({
        "setting": roundtrip.setting,
        "bpp": roundtrip.num_bits / (height * width),
        **metrics(roundtrip.reconstruction),
        "encoding_time": roundtrip.encode_seconds,
        "decoding_time": roundtrip.decode_seconds,
    })
  return records


def curve_of(codec: Codec, images: Sequence[NamedImage],
             on_image: Callable[[str], None] = lambda name: None,
             per_image: Optional[Dict[str, List[Record]]] = None) -> RDCurve:
  """`codec`'s points averaged over `images`, one image after the other.

  `on_image` is called with each image's name once it is done (a progress bar);
  `per_image`, when given, receives each image's own records under its name.
  """
  per_image = {} if per_image is None else per_image
  records: List[Record] = []
  for name, image in images:
    per_image[name] = measure(codec, image)
    records.extend(per_image[name])
    on_image(name)
  return average_by_setting(codec.name, codec.description, records)
