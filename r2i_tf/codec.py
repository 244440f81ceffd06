"""The R2I codec's neural half as a tf.Module, exportable as a SavedModel.

`encode` takes a batch of 32x32 blocks to the bits of every stage; `decode` takes the
bits of the first k stages to the k reconstructions. The rest of the codec (padding,
blocks, packing, the file format) is vectorised numpy in `r2i_tf.saved_codec`, so the
SavedModel needs nothing but TensorFlow, and a k-stage decode runs k stage decoders:
`decode` is traced once for every k from 1 to the model's stage count.
"""
from __future__ import annotations

import dataclasses
import hashlib
from typing import List

import tensorflow as tf

from compression_eval.fileio import atomic_directory
from r2i_tf.binarizer import from_bits, to_bits
from r2i_tf.config import CODE_SIDE, PATCH_SIZE
from r2i_tf.models import R2I


@dataclasses.dataclass(frozen=True)
class _Untracked:
  """Holds the Keras model outside tf.Module's tracking.

  A module that tracks a Keras model makes `tf.saved_model.save` trace every layer for
  Keras' own metadata, which is several times slower; the codec tracks the stages'
  variables as a list instead, so the SavedModel holds the weights and signatures only.
  """
  model: R2I


def coding_weights(model: R2I) -> List[tf.Variable]:
  """The stages' variables (no metric or optimizer state)."""
  return [weight for stage in model.stages for weight in stage.weights]


def model_id(model: R2I) -> int:
  """A 32-bit hash of the config and the weights: files name the model that wrote them."""
  digest = hashlib.sha256(model.config.to_json().encode())
  for variable in coding_weights(model):
    digest.update(variable.name.encode())
    digest.update(variable.numpy().tobytes())
  return int.from_bytes(digest.digest()[:4], "big")


class CodecModule(tf.Module):
  """Encode / decode on blocks, and what a client needs to know, for one trained `R2I`."""

  def __init__(self, model: R2I):
    super().__init__(name="r2i_codec")
    self._held = _Untracked(model)
    self._weights = coding_weights(model)
    self._config = model.config
    self._model_id = model_id(model)

  @tf.function(input_signature=[])
  def info(self) -> dict:
    return {"config": tf.constant(self._config.to_json()),
            "model_id": tf.constant(self._model_id, tf.int64)}

  @tf.function(input_signature=[tf.TensorSpec([None, PATCH_SIZE, PATCH_SIZE, 3], tf.uint8)])
  def encode(self, blocks: tf.Tensor) -> dict:
    """uint8 blocks (N, 32, 32, 3) to 0/1 bits (stages, N, 2, 2, C)."""
    codes = self._held.model.encode(tf.cast(blocks, tf.float32) / 255.0)
    return {"bits": to_bits(codes)}

  @tf.function
  def decode(self, bits: tf.Tensor) -> dict:
    """0/1 bits of the first k stages (k, N, 2, 2, C) to uint8 images (k, N, 32, 32, 3)."""
    pixels = self._held.model.decode(from_bits(bits))
    return {"images": tf.cast(tf.round(tf.clip_by_value(pixels, 0.0, 1.0) * 255.0), tf.uint8)}

  def bits_spec(self, stages: int) -> tf.TensorSpec:
    return tf.TensorSpec([stages, None, CODE_SIDE, CODE_SIDE, self._config.code_channels],
                         tf.uint8)

  def trace(self) -> dict:
    """Traces `decode` for every stage count; returns the signatures to export."""
    for stages in range(1, self._config.stages + 1):
      full = self.decode.get_concrete_function(self.bits_spec(stages))
    return {"info": self.info, "encode": self.encode, "decode": full}


def export(model: R2I, path: str) -> CodecModule:
  """Writes the codec SavedModel (plain TensorFlow ops; loads without extra packages)."""
  module = CodecModule(model)
  signatures = module.trace()
  with atomic_directory(path) as staging:
    tf.saved_model.save(module, str(staging), signatures=signatures)
  return module
