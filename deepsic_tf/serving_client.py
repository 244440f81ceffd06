"""DeepSIC files from a TF Serving model: the client half of `deepsic_tf.serving`.

The server returns integer codes; this client range-codes them with the tables the
server's `info` signature hands out and packs them exactly as the in-process codec
(`deepsic_tf.codec`) does, so a file has the same bytes whichever wrote it. Reading
goes the other way: a file's checked header and decoded codes, for the server's
`decode` signature. Over REST, the `rest_*` methods build the JSON bodies and read the
answers.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, List, Mapping

import numpy as np
import tensorflow as tf
import tensorflow_compression  # noqa: F401  pylint: disable=unused-import  (registers range-coding ops)

from compression_eval import rest
from compression_eval.errors import UserError
from compression_eval.images import MAX_PIXELS, check_pixel_count
from deepsic_tf import bitstream
from deepsic_tf.config import DeepSICConfig
from deepsic_tf.models import coding_model
from deepsic_tf.saved_codec import file_error

INFO_OUTPUTS = ("config", "model_id", "class_names", "cdf", "cdf_offset")
CODE_OUTPUTS = ("codes", "class_scores", "label")


@dataclasses.dataclass(frozen=True)
class FileCodes:
  """What a file holds, ready for the server's `decode` signature."""
  codes: np.ndarray  # int32 (1, rows, cols, channels)
  height: int
  width: int
  label: int  # stored by pre-semantic models; post-semantic files store none (0)


class ServingClient:
  """Writes and reads the files of one served DeepSIC model."""

  def __init__(self, info: Mapping[str, Any], max_pixels: int = MAX_PIXELS):
    """`info`: the outputs of the model's `info` signature (tensors, arrays or JSON values);
    files declaring more than `max_pixels` are refused before decoding."""
    self.max_pixels = max_pixels
    try:
      self.config = DeepSICConfig.from_json(rest.as_text(np.asarray(info["config"])))
      self.model_id = int(np.asarray(info["model_id"]))
      self.class_names = [rest.as_text(name) for name in np.asarray(info["class_names"]).ravel()]
      cdf = np.asarray(info["cdf"], np.int32)
      cdf_offset = np.asarray(info["cdf_offset"], np.int32)
    except (KeyError, TypeError, ValueError) as error:
      raise UserError(f"not the info of a DeepSIC serving model ({error})") from None
    if cdf_offset.shape != (self.config.bottleneck_channels,):
      raise UserError("the serving model's range-coding tables do not match its config")
    self._coder = coding_model(tf.constant(cdf), tf.constant(cdf_offset))
    self._label_bytes = bitstream.label_bytes_for(self.config.label_bits)

  @classmethod
  def from_saved_model(cls, path: str | os.PathLike) -> "ServingClient":
    """The client for a serving export on this machine (no server needed)."""
    try:
      info = tf.saved_model.load(str(path)).signatures["info"](unused=tf.constant(0))
    except (KeyError, ValueError, OSError, tf.errors.OpError) as error:
      raise UserError(f"{path} is not a DeepSIC serving SavedModel "
                      f"({type(error).__name__})") from None
    return cls({name: value.numpy() for name, value in info.items()})

  def latent_shape(self, height: int, width: int) -> tuple:
    stride = self.config.total_stride
    return (-(-height // stride), -(-width // stride))

  def files(self, outputs: Mapping[str, Any], height: int, width: int) -> List[bytes]:
    """One file per image from a `serving_default` answer for images of height x width."""
    codes = np.asarray(outputs["codes"])
    labels = np.asarray(outputs["label"]).reshape(-1)
    expected = self.latent_shape(height, width) + (self.config.bottleneck_channels,)
    if codes.ndim != 4 or codes.shape[1:] != expected or len(labels) != len(codes):
      raise UserError(f"codes of shape {codes.shape} are not those of {height}x{width} images "
                      f"for this model (N, {', '.join(map(str, expected))})")
    if not (1 <= height <= bitstream.MAX_SIDE and 1 <= width <= bitstream.MAX_SIDE):
      raise UserError(f"image sides must be 1 to {bitstream.MAX_SIDE} pixels, got {height}x{width}")
    payloads = self._coder.compress(tf.constant(codes, tf.float32))
    pre = self.config.architecture == "pre"
    return [bitstream.pack(self.model_id, height, width, int(label) if pre else 0,
                           self._label_bytes, payload).numpy()
            for label, payload in zip(labels, tf.unstack(payloads))]

  def read(self, data: bytes) -> FileCodes:
    """A file's size, label and codes; one-line `UserError` for a bad or foreign file."""
    try:
      parsed = bitstream.unpack(tf.constant(data), self.model_id, self._label_bytes,
                                self.config.num_classes)
      height, width = int(parsed.height), int(parsed.width)
      check_pixel_count(height, width, what="the DeepSIC file", limit=self.max_pixels)
      codes = self._coder.decompress(parsed.payload[tf.newaxis], self.latent_shape(height, width))
    except tf.errors.OpError as error:
      raise file_error(error) from None
    return FileCodes(codes.numpy().astype(np.int32), height, width, int(parsed.label))

  def rest_compress_request(self, images: np.ndarray) -> str:
    """The REST body of a `serving_default` request for same-size uint8 images (N, H, W, 3)."""
    return rest.images_request(images)

  def files_from_rest(self, response: str | bytes, height: int, width: int) -> List[bytes]:
    """The files of a REST `serving_default` answer for images of height x width."""
    return self.files(rest.response_outputs(response, CODE_OUTPUTS), height, width)

  def rest_decode_request(self, data: bytes) -> str:
    """The REST body of a `decode` request for a file (its answer: {"outputs": images})."""
    read = self.read(data)
    return rest.request_body("decode", {"codes": read.codes, "height": read.height,
                                        "width": read.width})
