"""The codecs the benchmarks time, behind one interface that splits where time goes.

`compress` takes an image array to a file on disk and `decompress` a file on disk to an
image array; both return (total seconds, seconds inside the neural transforms). For R2I
and IR2I the codec itself counts the time of its SavedModel calls; DeepSIC's codec is
one graph (transforms, range coding and packing together), so its transforms are timed
on the same image through the serving export, which runs exactly those transforms and
nothing else. Classic codecs have no neural transforms (NaN).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Dict, Tuple

import numpy as np

from benchmarks.common import DEFAULT_WORK, MODELS, REPO, export, seconds
from compression_eval.fileio import atomic_write_bytes, read_bytes

Split = Tuple[float, float]

# Classic codecs at one setting each, near the learned codecs' rates on Kodak.
PILLOW_SETTINGS = {"jpeg2000": 0.5, "webp": 75}


class DeepSICTimed:
  """A shipped DeepSIC codec, with its serving export to time the transforms alone."""

  def __init__(self, work: Path = DEFAULT_WORK):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from compression_zoo import zoo  # pylint: disable=import-outside-toplevel
    from deepsic_tf import serving  # pylint: disable=import-outside-toplevel
    from deepsic_tf.saved_codec import SavedCodec  # pylint: disable=import-outside-toplevel
    from deepsic_tf.serving_client import ServingClient  # pylint: disable=import-outside-toplevel
    self._tf = tf
    codec_dir = export("deepsic", work)
    serving_dir = codec_dir.parent / "serving"
    if not (serving_dir / "saved_model.pb").is_file():
      serving.export(zoo.load(REPO / "saved_models" / MODELS["deepsic"], "deepsic"),
                     str(serving_dir))
    self.name, self.setting = "DeepSIC", MODELS["deepsic"]
    self.codec = SavedCodec(codec_dir)
    self._serving = tf.saved_model.load(str(serving_dir)).signatures
    self._client = ServingClient.from_saved_model(serving_dir)

  def compress(self, image: np.ndarray, path: Path) -> Split:
    total, _ = seconds(lambda: atomic_write_bytes(path, self.codec.compress(image)))
    transforms, _ = seconds(
        lambda: self._serving["serving_default"](images=self._tf.constant(image[np.newaxis])))
    return total, transforms

  def decompress(self, path: Path) -> Split:
    total, _ = seconds(lambda: self.codec.decompress(read_bytes(path)))
    read = self._client.read(read_bytes(path))
    transforms, _ = seconds(lambda: self._serving["decode"](
        codes=self._tf.constant(read.codes), height=read.height, width=read.width))
    return total, transforms


class R2ITimed:
  """A shipped R2I or IR2I codec; `scan_order` picks IR2I's first-code scan."""

  def __init__(self, kind: str = "r2i", scan_order: str = "wavefront", work: Path = DEFAULT_WORK):
    from r2i_tf.saved_codec import SavedCodec  # pylint: disable=import-outside-toplevel
    self.codec = SavedCodec(export(kind, work))
    self.scan_order = scan_order
    self.name = "R2I" if kind == "r2i" else f"IR2I ({scan_order})"
    self.setting = f"{MODELS[kind]}, 8 stages"

  def compress(self, image: np.ndarray, path: Path) -> Split:
    before = self.codec.network_seconds
    total, _ = seconds(lambda: atomic_write_bytes(
        path, self.codec.compress(image, scan_order=self.scan_order)))
    return total, self.codec.network_seconds - before

  def decompress(self, path: Path) -> Split:
    before = self.codec.network_seconds
    total, _ = seconds(lambda: self.codec.decompress(read_bytes(path), self.scan_order))
    return total, self.codec.network_seconds - before


class PillowTimed:
  """JPEG 2000 or WebP through Pillow, at the setting in PILLOW_SETTINGS."""

  def __init__(self, name: str):
    from compression_eval import baselines  # pylint: disable=import-outside-toplevel
    from compression_eval.images import decode_rgb8  # pylint: disable=import-outside-toplevel
    self._codec = getattr(baselines, name)()
    self._decode = decode_rgb8
    self.name = {"jpeg2000": "JPEG 2000", "webp": "WebP"}[name]
    option = {"jpeg2000": "target {} bpp", "webp": "quality {}"}[name]
    self.setting = option.format(PILLOW_SETTINGS[name])
    self._value = PILLOW_SETTINGS[name]

  def compress(self, image: np.ndarray, path: Path) -> Split:
    total, _ = seconds(lambda: atomic_write_bytes(path, self._codec.encode(image, self._value)))
    return total, math.nan

  def decompress(self, path: Path) -> Split:
    total, _ = seconds(lambda: self._decode(read_bytes(path)))
    return total, math.nan


def make(name: str, work: Path = DEFAULT_WORK):
  """A timed codec by benchmark name: deepsic, r2i, ir2i-raster, ir2i-wavefront, jpeg2000, webp."""
  if name == "deepsic":
    return DeepSICTimed(work)
  if name == "r2i":
    return R2ITimed("r2i", work=work)
  if name.startswith("ir2i-"):
    return R2ITimed("ir2i", name.split("-", 1)[1], work)
  return PillowTimed(name)


CODECS: Dict[str, str] = {"deepsic": "learned", "r2i": "learned", "ir2i-raster": "learned",
                          "ir2i-wavefront": "learned", "jpeg2000": "classic", "webp": "classic"}
