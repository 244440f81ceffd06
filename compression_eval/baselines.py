"""Classic codecs through Pillow: JPEG (4:2:0), JPEG 2000, WebP and AVIF.

The rate is always the length of the bytes the encoder produced, headers included. The
settings span roughly 0.1 to 2+ bpp on Kodak so that every curve covers the 0-1 bpp
range the papers' BD rates use.
"""
from __future__ import annotations

import dataclasses
import io
import time
from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy as np
import PIL
from PIL import Image, features

from compression_eval.codecs import Roundtrip, Setting
from compression_eval.errors import UserError
from compression_eval.images import decode_rgb8


@dataclasses.dataclass(frozen=True)
class PillowCodec:
  """A Pillow format with one rate knob, e.g. JPEG quality or a JPEG 2000 target rate."""
  name: str
  pillow_format: str
  feature: str  # Pillow feature that must be compiled in
  settings: Sequence[Setting]
  options: Callable[[Setting], Dict[str, Any]]  # Pillow save() options for a setting
  summary: str
  extension: str  # of the files, with the dot

  @property
  def description(self) -> str:
    return f"{self.summary}. Pillow version {PIL.__version__}"

  def __post_init__(self) -> None:
    if not features.check(self.feature):
      raise UserError(f"this Pillow ({PIL.__version__}) was built without {self.feature}; "
                      f"reinstall Pillow from PyPI wheels to evaluate {self.name}")

  def encode(self, image: np.ndarray, setting: Setting) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=self.pillow_format, **self.options(setting))
    return buffer.getvalue()

  def decode(self, data: bytes) -> np.ndarray:
    return decode_rgb8(data)

  def files(self, image: np.ndarray) -> List[Tuple[Setting, bytes]]:
    image = np.ascontiguousarray(image, dtype=np.uint8)
    return [(setting, self.encode(image, setting)) for setting in self.settings]

  def roundtrips(self, image: np.ndarray) -> List[Roundtrip]:
    image = np.ascontiguousarray(image, dtype=np.uint8)
    points = []
    for setting in self.settings:
      start = time.perf_counter()
      data = self.encode(image, setting)
      encoded = time.perf_counter()
      reconstruction = self.decode(data)
      decoded = time.perf_counter()
      points.append(Roundtrip(setting, 8 * len(data), reconstruction,
                              encoded - start, decoded - encoded))
    return points


def jpeg() -> PillowCodec:
  """Baseline JPEG with 4:2:0 chroma subsampling at qualities 5, 10, ..., 95."""
  return PillowCodec(
      name="jpeg", pillow_format="JPEG", feature="jpg", settings=range(5, 100, 5),
      options=lambda quality: {"quality": quality, "subsampling": 2},
      summary="JPEG (4:2:0, libjpeg quality 5-95)", extension=".jpg")


# JPEG 2000 is rate-controlled: the setting is the target bpp, which OpenJPEG takes as a
# compression ratio against 24-bit RGB.
JPEG2000_TARGET_BPP = (0.08, 0.12, 0.16, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75, 1.0, 1.25, 1.5, 2.0)


def jpeg2000() -> PillowCodec:
  """JPEG 2000 (OpenJPEG, irreversible 9/7 wavelet, raw codestream) at target rates.

  Pillow leaves the multiple-component (RGB to YCbCr) transform off unless asked; without
  it JPEG 2000 codes R, G and B independently and loses about 4 dB at 1 bpp on Kodak.
  """
  return PillowCodec(
      name="jpeg2000", pillow_format="JPEG2000", feature="jpg_2000",
      settings=JPEG2000_TARGET_BPP,
      options=lambda bpp: {"quality_mode": "rates", "quality_layers": [24.0 / bpp],
                           "irreversible": True, "mct": 1, "no_jp2": True},
      summary="JPEG 2000 (OpenJPEG, 9/7 wavelet, YCbCr transform, target-rate layers)",
      extension=".j2k")


def webp() -> PillowCodec:
  """Lossy WebP (libwebp method 4, its default) at qualities 0, 5, ..., 95."""
  return PillowCodec(
      name="webp", pillow_format="WEBP", feature="webp", settings=range(0, 100, 5),
      options=lambda quality: {"quality": quality, "method": 4, "lossless": False},
      summary="WebP (libwebp, lossy, method 4, quality 0-95)", extension=".webp")


def avif() -> PillowCodec:
  """AVIF (libavif, 4:2:0, speed 6) at qualities 0, 10, ..., 90."""
  return PillowCodec(
      name="avif", pillow_format="AVIF", feature="avif", settings=range(0, 100, 10),
      options=lambda quality: {"quality": quality, "subsampling": "4:2:0", "speed": 6},
      summary="AVIF (libavif, 4:2:0, speed 6, quality 0-90)", extension=".avif")
