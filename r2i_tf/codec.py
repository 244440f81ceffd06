"""The R2I and IR2I codecs' neural half as a tf.Module, exportable as a SavedModel.

`encode` takes a batch of 32x32 blocks to the bits of every stage; `decode` takes the
bits of the first k stages to the k reconstructions; `serving_default` (R2I) takes
whole images to their bits, in one call for TF Serving. An IR2I codec also has `inpaint`
(masked 64x64 contexts to predicted blocks), and its `encode` and `decode` take each
block's inpainting beside it. The rest of the codec (padding,
blocks, packing, the file format) is vectorised numpy in `r2i_tf.saved_codec`, so the
SavedModel needs nothing but TensorFlow, and a k-stage decode runs k stage decoders:
`decode` is traced once for every k from 1 to the model's stage count.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
from typing import List, Union

import tensorflow as tf

from compression_eval.fileio import atomic_directory
from compression_eval.padding import pad_to_multiple
from r2i_tf.binarizer import from_bits, to_bits
from r2i_tf.config import CODE_SIDE, PATCH_SIZE, IR2IConfig
from r2i_tf.inpainting import CONTEXT
from r2i_tf.ir2i import IR2I
from r2i_tf.models import R2I

Coder = Union[R2I, IR2I]

_BLOCKS = tf.TensorSpec([None, PATCH_SIZE, PATCH_SIZE, 3], tf.uint8)
_INPAINTING = tf.TensorSpec([None, PATCH_SIZE, PATCH_SIZE, 3], tf.float32)


def _to_uint8(pixels: tf.Tensor) -> tf.Tensor:
  return tf.cast(tf.round(tf.clip_by_value(pixels, 0.0, 1.0) * 255.0), tf.uint8)


@dataclasses.dataclass(frozen=True)
class _Untracked:
  """Holds the Keras model outside tf.Module's tracking.

  A module that tracks a Keras model makes `tf.saved_model.save` trace every layer for
  Keras' own metadata, which is several times slower; the codec tracks the stages'
  variables as a list instead, so the SavedModel holds the weights and signatures only.
  """
  model: Coder


def coding_weights(model: Coder) -> List[tf.Variable]:
  """The stages' (and inpainting network's) variables, no metric or optimizer state."""
  weights = [weight for stage in model.stages for weight in stage.weights]
  return weights + (model.inpainter.weights if isinstance(model, IR2I) else [])


def model_id(model: Coder) -> int:
  """A 32-bit hash of the config and the weights: files name the model that wrote them."""
  digest = hashlib.sha256(model.config.to_json().encode())
  for variable in coding_weights(model):
    digest.update(str(variable.shape).encode())  # not the name: Keras numbers names per process
    digest.update(variable.numpy().tobytes())
  return int.from_bytes(digest.digest()[:4], "big")


class CodecModule(tf.Module):
  """Encode / decode on blocks, and what a client needs to know, for one trained `R2I`."""

  def __init__(self, model: Coder):
    super().__init__(name="r2i_codec")
    self._held = _Untracked(model)
    self._weights = coding_weights(model)
    self._config = model.config
    self._code_channels = (model.config.coder if isinstance(model, IR2I)
                           else model.config).code_channels
    self._model_id = model_id(model)

  # TF Serving's REST API refuses a signature without inputs (tensorflow/serving#1676),
  # so `info` takes a scalar it ignores.
  @tf.function(input_signature=[tf.TensorSpec([], tf.int32, name="unused")])
  def info(self, unused: tf.Tensor) -> dict:  # pylint: disable=unused-argument
    """What a client needs besides the signatures (`r2i_tf.serving_client`)."""
    return {"config": tf.constant(self._config.to_json()),
            "model_id": tf.constant(self._model_id, tf.int64)}

  @tf.function(input_signature=[_BLOCKS])
  def encode(self, blocks: tf.Tensor) -> dict:
    """uint8 blocks (N, 32, 32, 3) to 0/1 bits (stages, N, 2, 2, C)."""
    codes = self._held.model.encode(tf.cast(blocks, tf.float32) / 255.0)
    return {"bits": to_bits(codes)}

  @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")])
  def serving_default(self, images: tf.Tensor) -> dict:
    """uint8 images (one size per batch) to bits (N, stages, blocks, 2, 2, C), for TF Serving.

    Blocks are in raster order, as `r2i_tf.blocks.to_blocks` cuts them, so
    `r2i_tf.serving_client` packs the same files as the in-process codec.
    """
    padded = pad_to_multiple(images, PATCH_SIZE, row_axis=1)
    shape = tf.shape(padded)
    count, rows, cols = shape[0], shape[1] // PATCH_SIZE, shape[2] // PATCH_SIZE
    blocks = tf.reshape(padded, [count, rows, PATCH_SIZE, cols, PATCH_SIZE, 3])
    blocks = tf.reshape(tf.transpose(blocks, [0, 1, 3, 2, 4, 5]), [-1, PATCH_SIZE, PATCH_SIZE, 3])
    bits = self.encode(blocks)["bits"]
    bits = tf.reshape(bits, tf.concat([[self._config.stages, count, rows * cols],
                                       tf.shape(bits)[2:]], 0))
    return {"bits": tf.transpose(bits, [1, 0, 2, 3, 4, 5])}

  @tf.function
  def decode(self, bits: tf.Tensor) -> dict:
    """0/1 bits of the first k stages (k, N, 2, 2, C) to uint8 images (k, N, 32, 32, 3)."""
    return {"images": _to_uint8(self._held.model.decode(from_bits(bits)))}

  def bits_spec(self, stages: int) -> tf.TensorSpec:
    return tf.TensorSpec([stages, None, CODE_SIDE, CODE_SIDE, self._code_channels], tf.uint8)

  def trace(self) -> dict:
    """Traces `decode` for every stage count; returns the signatures to export."""
    for stages in range(1, self._config.stages + 1):
      full = self.decode.get_concrete_function(self.bits_spec(stages))
    return {"info": self.info, "encode": self.encode, "decode": full,
            "serving_default": self.serving_default}


class InpaintingCodecModule(CodecModule):
  """The IR2I codec: `inpaint`, and `encode` / `decode` given each block's inpainting.

  The inpainting is on the [-1, 1] scale, as the network gives it; the client
  (`r2i_tf.scan`) builds the contexts from first-code reconstructions and keeps each
  block's inpainting for the later stages. A block's context needs its neighbours'
  decoded first code, so an image is a sequence of calls that the client drives: there
  is no one-call `serving_default`.
  """

  serving_default = None

  @tf.function(input_signature=[tf.TensorSpec([None, CONTEXT, CONTEXT, 3], tf.float32)])
  def inpaint(self, contexts: tf.Tensor) -> dict:
    """Masked contexts (N, 64, 64, 3) on [-1, 1] to predicted blocks (N, 32, 32, 3)."""
    return {"inpainting": self._held.model.inpaint(contexts)}

  @tf.function(input_signature=[_BLOCKS, _INPAINTING])
  def encode(self, blocks: tf.Tensor, inpainting: tf.Tensor) -> dict:  # pylint: disable=arguments-differ
    """uint8 blocks (N, 32, 32, 3) and their inpainting to 0/1 bits (stages, N, 2, 2, C)."""
    codes = self._held.model.encode_residual(tf.cast(blocks, tf.float32) / 255.0, inpainting)
    return {"bits": to_bits(codes)}

  @tf.function
  def decode(self, bits: tf.Tensor, inpainting: tf.Tensor) -> dict:  # pylint: disable=arguments-differ
    """Bits of the first k stages (k, N, 2, 2, C) and the inpainting to (k, N, 32, 32, 3)."""
    return {"images": _to_uint8(self._held.model.decode_residual(from_bits(bits), inpainting))}

  def trace(self) -> dict:
    for stages in range(1, self._config.stages + 1):
      full = self.decode.get_concrete_function(self.bits_spec(stages), _INPAINTING)
    return {"info": self.info, "inpaint": self.inpaint, "encode": self.encode, "decode": full}


def codec_module(model: Coder) -> CodecModule:
  """The codec module of an R2I coder, or of IR2I (which adds `inpaint`)."""
  return (InpaintingCodecModule if isinstance(model.config, IR2IConfig) else CodecModule)(model)


def export(model: Coder, path: str | os.PathLike) -> CodecModule:
  """Writes the codec SavedModel (plain TensorFlow ops; loads without extra packages)."""
  module = codec_module(model)
  signatures = module.trace()
  with atomic_directory(path) as staging:
    tf.saved_model.save(module, str(staging), signatures=signatures)
  return module
