"""Using an exported DeepSIC codec from Python: numpy images and bytes in, one-line errors out.

The SavedModel does all the work of factorized files (see `deepsic_tf.codec`); this
wrapper loads it, converts arrays and maps TensorFlow's errors for bad files to
`UserError`, so the CLI and the Kodak evaluation report "file written by another model"
rather than a graph trace. Context-coded files (format version 2) take the code out of
the graph (`codes`), code it with `deepsic_tf.context_coding` and the model's
context_tables.npz (beside the codec, or in the shipped model's folder), and decode the
other way (`decode_codes`).
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

from compression_eval import file_header, side_tables
from compression_eval.errors import UserError
from compression_eval.images import MAX_PIXELS, check_pixel_count
from deepsic_tf import bitstream, context_coding
from deepsic_tf.bitstream import ERROR_PREFIX, declared_size
from deepsic_tf.config import DeepSICConfig
from deepsic_tf.quantizer import BBitQuantizer

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
    self._label_bytes = bitstream.label_bytes_for(self.config.label_bits)
    self.levels = BBitQuantizer(self.config.bits).levels
    self._tables: Optional[context_coding.ContextTables] = None
    self.table_folders = [path, path.parent] if path else []

  def use_context_tables(self, tables: context_coding.ContextTables) -> None:
    """Codes context-coded files with these tables (refused if made for another model)."""
    if tables.model_id != self.model_id or tables.channels != self.config.bottleneck_channels:
      raise UserError("the context tables were learned for another DeepSIC model")
    self._tables = tables

  def context_tables(self) -> context_coding.ContextTables:
    """This model's context tables, or a one-line `UserError`."""
    if self._tables is None:
      self.use_context_tables(side_tables.lookup(
          context_coding.ContextTables.load, lambda tables: tables.model_id == self.model_id,
          context_coding.FILE_NAME, self.table_folders, "context tables for this DeepSIC "
          "model", self.model_id, "scripts/learn_context_tables.py"))
    return self._tables

  @property
  def has_context_tables(self) -> bool:
    try:
      self.context_tables()
    except UserError:
      return False
    return True

  def compress(self, image: np.ndarray, context_coded: bool = False) -> bytes:
    """A file of `image`; `context_coded` codes it with the context-adaptive coder
    (format version 2), else with the model's own entropy model, in the graph."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    if image.ndim != 3 or image.shape[-1] != 3:
      raise UserError(f"expected an RGB image (H, W, 3), got shape {image.shape}")
    if not (1 <= min(image.shape[:2]) and max(image.shape[:2]) <= 65535):
      raise UserError(f"image sides must be 1 to 65535 pixels, got {image.shape[:2]}")
    if not context_coded:
      return self._signatures["compress"](image=tf.constant(image))["file"].numpy()
    tables = self.context_tables()  # a missing one is refused before the networks run
    outputs = self._signatures["codes"](image=tf.constant(image))
    payload = context_coding.encode(outputs["codes"].numpy(), self.levels, tables)
    return bitstream.pack(self.model_id, image.shape[0], image.shape[1],
                          int(outputs["label"]), self._label_bytes, tf.constant(payload),
                          bitstream.CONTEXT_VERSION).numpy()

  def code(self, image: np.ndarray) -> np.ndarray:
    """The integer code (rows, cols, C) of a uint8 RGB image, as either coder codes it."""
    return self._signatures["codes"](image=tf.constant(np.asarray(image, np.uint8))
                                     )["codes"].numpy()

  def _context_codes(self, data: bytes) -> tuple:
    """(codes, height, width, label) of a context-coded file, checked like any file."""
    tables = self.context_tables()
    try:
      parsed = bitstream.unpack(tf.constant(data), self.model_id, self._label_bytes,
                                self.config.num_classes, bitstream.CONTEXT_VERSION)
    except tf.errors.OpError as error:
      raise file_error(error) from None
    height, width = int(parsed.height), int(parsed.width)
    stride = self.config.total_stride
    shape = (-(-height // stride), -(-width // stride), self.config.bottleneck_channels)
    codes = context_coding.decode(parsed.payload.numpy(), shape, self.levels, tables)
    return codes, height, width, int(parsed.label)

  @staticmethod
  def context_coded(data: bytes) -> bool:
    """Whether a file's header says format version 2 (context-coded)."""
    prefix = file_header.read_prefix(data)
    return prefix is not None and prefix.magic == bitstream.MAGIC and (
        prefix.version == bitstream.CONTEXT_VERSION)

  def _check_size(self, data: bytes) -> None:
    """Refuses a file declaring more than `max_pixels`, before anything is decoded."""
    size = declared_size(data)
    if size is not None:
      check_pixel_count(*size, what="the DeepSIC file", limit=self.max_pixels)

  def _run(self, signature: str, data: bytes) -> dict:
    """A file-reading signature's outputs, after refusing an absurd declared size."""
    self._check_size(data)
    try:
      return self._signatures[signature](data=tf.constant(data))
    except tf.errors.OpError as error:
      raise file_error(error) from None

  def _run_context(self, signature: str, data: bytes) -> dict:
    """`decode_codes` or `classify_codes` of a context-coded file's code."""
    self._check_size(data)
    codes, height, width, label = self._context_codes(data)
    inputs = {"codes": tf.constant(codes), "label": tf.constant(label, tf.int32)}
    if signature == "decode_codes":
      inputs.update(height=tf.constant(height, tf.int32), width=tf.constant(width, tf.int32))
    return self._signatures[signature](**inputs)

  def decompress(self, data: bytes) -> Decoded:
    outputs = (self._run_context("decode_codes", data) if self.context_coded(data)
               else self._run("decompress", data))
    label = int(outputs["label"].numpy())
    return Decoded(outputs["image"].numpy(), label, self.class_names[label])

  def classify(self, data: bytes) -> Decoded:
    """The class alone (image left empty); post-semantic reconstructs no pixels."""
    outputs = (self._run_context("classify_codes", data) if self.context_coded(data)
               else self._run("classify", data))
    label = int(outputs["label"].numpy())
    return Decoded(np.zeros((0, 0, 3), np.uint8), label, self.class_names[label])
