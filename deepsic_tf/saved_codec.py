"""Using an exported DeepSIC codec from Python: numpy images and bytes in, one-line errors out.

The SavedModel does all the work (see `deepsic_tf.codec`); this wrapper loads it,
converts arrays and maps TensorFlow's errors for bad files to `UserError`, so the CLI and
the Kodak evaluation report "file written by another model" rather than a graph trace.
"""
from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import numpy as np
import tensorflow as tf
import tensorflow_compression  # noqa: F401  pylint: disable=unused-import  (registers range-coding ops)

from compression_eval.errors import UserError
from compression_eval.images import MAX_PIXELS, check_pixel_count
from deepsic_tf.bitstream import ERROR_PREFIX, declared_size
from deepsic_tf.config import DeepSICConfig

if TYPE_CHECKING:  # the model classes load Keras layers, which reading files does not need
  from deepsic_tf.models import DeepSIC

_ASSERTION = re.compile(re.escape(ERROR_PREFIX) + r"([^\]\n']*)")  # up to the quote TF adds


@dataclasses.dataclass(frozen=True)
class Decoded:
  image: np.ndarray  # uint8 (H, W, 3)
  label: int
  class_name: str


def file_error(error: tf.errors.OpError) -> UserError:
  """Our own assertion text where there is one, else a generic corrupt-file message."""
  match = _ASSERTION.search(error.message)
  return UserError(match.group(1).strip() if match else
                   "corrupt DeepSIC file (its code does not decode)")


class SavedCodec:
  """A loaded codec SavedModel."""

  def __init__(self, path: str | os.PathLike, max_pixels: int = MAX_PIXELS):
    """`max_pixels`: files declaring a larger image are refused before decoding."""
    path = Path(path)
    if not (path / "saved_model.pb").is_file():
      raise UserError(f"no DeepSIC codec SavedModel at {path} (expected {path}/saved_model.pb; "
                      "train one with scripts/train_deepsic.py)")
    try:
      module = tf.saved_model.load(str(path))
      self._signatures = module.signatures
      info = self._signatures["info"]()
    except (KeyError, ValueError, OSError, tf.errors.OpError) as error:
      raise UserError(f"{path} is not a DeepSIC codec SavedModel ({type(error).__name__})") from None
    self._module = module  # holds the variables the signatures read
    self._start(path, info, max_pixels)

  @classmethod
  def of_model(cls, model: DeepSIC, max_pixels: int = MAX_PIXELS) -> "SavedCodec":
    """The same codec run in this process from a model's weights, without exporting: the
    module the SavedModel would hold, called directly."""
    from deepsic_tf.codec import CodecModule  # pylint: disable=import-outside-toplevel
    codec = cls.__new__(cls)
    codec._module = CodecModule(model)
    codec._signatures = codec._module.signatures()
    codec._start(None, codec._signatures["info"](), max_pixels)
    return codec

  def _start(self, path: Optional[Path], info: dict, max_pixels: int) -> None:
    self.path = path
    self.max_pixels = max_pixels
    self.config = DeepSICConfig.from_json(info["config"].numpy().decode())
    self.model_id = int(info["model_id"].numpy())
    self.class_names: List[str] = [name.decode() for name in info["class_names"].numpy()]

  def compress(self, image: np.ndarray) -> bytes:
    image = np.ascontiguousarray(image, dtype=np.uint8)
    if image.ndim != 3 or image.shape[-1] != 3:
      raise UserError(f"expected an RGB image (H, W, 3), got shape {image.shape}")
    if not (1 <= min(image.shape[:2]) and max(image.shape[:2]) <= 65535):
      raise UserError(f"image sides must be 1 to 65535 pixels, got {image.shape[:2]}")
    return self._signatures["compress"](image=tf.constant(image))["file"].numpy()

  def _run(self, signature: str, data: bytes) -> dict:
    """A file-reading signature's outputs, after refusing an absurd declared size."""
    size = declared_size(data)
    if size is not None:
      check_pixel_count(*size, what="the DeepSIC file", limit=self.max_pixels)
    try:
      return self._signatures[signature](data=tf.constant(data))
    except tf.errors.OpError as error:
      raise file_error(error) from None

  def decompress(self, data: bytes) -> Decoded:
    outputs = self._run("decompress", data)
    label = int(outputs["label"].numpy())
    return Decoded(outputs["image"].numpy(), label, self.class_names[label])

  def classify(self, data: bytes) -> Decoded:
    """The class alone (image left empty); post-semantic reconstructs no pixels."""
    label = int(self._run("classify", data)["label"].numpy())
    return Decoded(np.zeros((0, 0, 3), np.uint8), label, self.class_names[label])
