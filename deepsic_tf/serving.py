"""A DeepSIC SavedModel for TF Serving: standard TensorFlow ops only.

TF Serving has no tensorflow-compression range-coding ops, so this export stops at the
quantised code: `serving_default` maps a batch of images to the integer codes
(Eq. 1's ceil(2^(B-1) f), B bits each), the class scores and the class; `decode` maps
codes back to images; `classify_codes` runs the head on decoded codes (post-semantic);
`info` hands out what the client needs to write files (`deepsic_tf.serving_client`):
the config, the model id and the range coder's tables. Range coding stays client-side.
"""
from __future__ import annotations

import os

import tensorflow as tf

from compression_eval.errors import UserError
from compression_eval.fileio import atomic_directory
from compression_eval.padding import pad_to_multiple
from deepsic_tf.codec import model_id
from deepsic_tf.exportable import Transforms
from deepsic_tf.models import DeepSIC


class ServingModule(tf.Module):
  """Transforms and classifier of one `DeepSIC`, without entropy coding."""

  def __init__(self, model: DeepSIC):
    super().__init__(name="deepsic_serving")
    if model.hyperprior:
      raise UserError("the TF Serving export codes factorized models only; this model has a "
                      "hyperprior (use its codec export)")
    self._config = model.config
    self._transforms = Transforms.of(model)
    self._weights = self._transforms.weights
    self._quantizer = model.quantizer
    self._model_id = model_id(model)
    coder = model.entropy_model(compression=True)
    self._cdf, self._cdf_offset = coder.cdf.numpy(), coder.cdf_offset.numpy()
    self._class_names = list(model.config.class_names) or [
        str(i) for i in range(model.config.num_classes)]
    channels = model.config.bottleneck_channels
    self.decode = tf.function(self._decode, input_signature=[
        tf.TensorSpec([None, None, None, channels], tf.int32, name="codes"),
        tf.TensorSpec([], tf.int32, name="height"), tf.TensorSpec([], tf.int32, name="width")])
    self.classify_codes = tf.function(self._classify_codes, input_signature=[
        tf.TensorSpec([None, None, None, channels], tf.int32, name="codes")])
    # TF Serving's REST API refuses a signature without inputs (tensorflow/serving#1676),
    # so `info` takes a scalar it ignores.
    self.info = tf.function(self._info, input_signature=[
        tf.TensorSpec([], tf.int32, name="unused")])

  def _logits(self, features: tf.Tensor) -> tf.Tensor:
    return self._transforms.head(features, training=False)

  @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")])
  def serving_default(self, images: tf.Tensor) -> dict:
    """uint8 images (one size per batch) to int32 codes, class scores and class."""
    padded = pad_to_multiple(images, self._config.total_stride, row_axis=1)
    features = self._transforms.features(padded)
    codes = self._quantizer.quantize(features)
    logits = self._logits(features if self._config.architecture == "pre" else
                          self._quantizer.from_lattice(codes))
    return {"codes": tf.cast(codes, tf.int32), "class_scores": tf.nn.softmax(logits),
            "label": tf.argmax(logits, axis=-1, output_type=tf.int32)}

  def _decode(self, codes: tf.Tensor, height: tf.Tensor, width: tf.Tensor) -> dict:
    features = self._quantizer.from_lattice(tf.cast(codes, tf.float32))
    return {"images": self._transforms.pixels(features)[:, :height, :width]}

  def _classify_codes(self, codes: tf.Tensor) -> dict:
    logits = self._logits(self._quantizer.from_lattice(tf.cast(codes, tf.float32)))
    return {"class_scores": tf.nn.softmax(logits),
            "label": tf.argmax(logits, axis=-1, output_type=tf.int32)}

  def _info(self, unused: tf.Tensor) -> dict:  # pylint: disable=unused-argument
    return {"config": tf.constant(self._config.to_json()),
            "model_id": tf.constant(self._model_id, tf.int64),
            "class_names": tf.constant(self._class_names),
            "cdf": tf.constant(self._cdf), "cdf_offset": tf.constant(self._cdf_offset)}

  def signatures(self) -> dict:
    return {"serving_default": self.serving_default, "decode": self.decode,
            "classify_codes": self.classify_codes, "info": self.info}


def export(model: DeepSIC, path: str | os.PathLike) -> ServingModule:
  """Writes the serving SavedModel (loads in stock TensorFlow and TF Serving)."""
  module = ServingModule(model)
  with atomic_directory(path) as staging:
    tf.saved_model.save(module, str(staging), signatures=module.signatures())
  return module
