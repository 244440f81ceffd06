"""A DeepSIC SavedModel for TF Serving: standard TensorFlow ops only.

TF Serving has no tensorflow-compression range-coding ops, so this export stops at the
quantised code: `serving_default` maps a batch of images to the integer codes
(Eq. 1's ceil(2^(B-1) f), B bits each) and the class scores; `decode` maps codes back
to images; `classify_codes` runs the head on decoded codes (post-semantic). Range coding
the codes into files stays in the client library, next to the server.
"""
from __future__ import annotations

import tensorflow as tf

from compression_eval.fileio import atomic_directory
from deepsic_tf.exportable import Transforms, pad_to_multiple
from deepsic_tf.models import DeepSIC


class ServingModule(tf.Module):
  """Transforms and classifier of one `DeepSIC`, without entropy coding."""

  def __init__(self, model: DeepSIC):
    super().__init__(name="deepsic_serving")
    self._config = model.config
    self._transforms = Transforms.of(model)
    self._weights = self._transforms.weights
    self._quantizer = model.quantizer
    channels = model.config.bottleneck_channels
    self.decode = tf.function(self._decode, input_signature=[
        tf.TensorSpec([None, None, None, channels], tf.int32, name="codes"),
        tf.TensorSpec([], tf.int32, name="height"), tf.TensorSpec([], tf.int32, name="width")])
    self.classify_codes = tf.function(self._classify_codes, input_signature=[
        tf.TensorSpec([None, None, None, channels], tf.int32, name="codes")])

  def _scores(self, features: tf.Tensor) -> tf.Tensor:
    return tf.nn.softmax(self._transforms.head(features, training=False))

  @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")])
  def serving_default(self, images: tf.Tensor) -> dict:
    """uint8 images (one size per batch) to int32 codes and class scores."""
    padded = pad_to_multiple(images, self._config.total_stride, row_axis=1)
    features = self._transforms.analysis(tf.cast(padded, tf.float32) / 255.0, training=False)
    codes = self._quantizer.quantize(features)
    head_input = features if self._config.architecture == "pre" else (
        self._quantizer.from_lattice(codes))
    return {"codes": tf.cast(codes, tf.int32), "class_scores": self._scores(head_input)}

  def _decode(self, codes: tf.Tensor, height: tf.Tensor, width: tf.Tensor) -> dict:
    features = self._quantizer.from_lattice(tf.cast(codes, tf.float32))
    pixels = self._transforms.synthesis(features, training=False)[:, :height, :width]
    return {"images": tf.cast(tf.round(tf.clip_by_value(pixels, 0.0, 1.0) * 255.0), tf.uint8)}

  def _classify_codes(self, codes: tf.Tensor) -> dict:
    return {"class_scores": self._scores(self._quantizer.from_lattice(tf.cast(codes, tf.float32)))}


def export(model: DeepSIC, path: str) -> ServingModule:
  """Writes the serving SavedModel (loads in stock TensorFlow and TF Serving)."""
  module = ServingModule(model)
  with atomic_directory(path) as staging:
    tf.saved_model.save(module, str(staging), signatures={
        "serving_default": module.serving_default, "decode": module.decode,
        "classify_codes": module.classify_codes})
  return module
