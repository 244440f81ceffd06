"""The two stage types of DeepSIC's feature extractor and reconstruction (paper, Fig. 3).

A feature stage is conv -> subsample -> batch norm, and it adds the batch-normalised
output of the stage before it (resampled to match) so that features are reused across
stages (section III-A). A reconstruction stage upsamples along two paths, a transposed
convolution and a plain interpolation of its input, and sums them (section III-C).
"""
from __future__ import annotations

import tensorflow as tf


class FeatureStage(tf.keras.layers.Layer):
  """Strided conv (conv + subsampling), optional ReLU, batch norm, plus a normalised skip.

  The skip is the stage's input, average-pooled by the subsampling factor, projected by
  a 1x1 conv when the channel counts differ, and batch-normalised before it is added.
  The first stage, whose input is the image, has no skip.
  """

  def __init__(self, filters: int, kernel_size: int, subsample: int, skip: bool,
               activation: bool, **kwargs):
    super().__init__(**kwargs)
    self.filters = filters
    self.kernel_size = kernel_size
    self.subsample = subsample
    self.skip = skip
    self.activation = activation
    self.conv = tf.keras.layers.Conv2D(filters, kernel_size, strides=subsample, padding="same",
                                       activation="relu" if activation else None)
    self.norm = tf.keras.layers.BatchNormalization()
    self.skip_pool = (tf.keras.layers.AveragePooling2D(subsample, padding="same")
                      if subsample > 1 else None)
    self.skip_projection = None
    self.skip_norm = tf.keras.layers.BatchNormalization() if skip else None

  def build(self, input_shape: tf.TensorShape) -> None:
    if self.skip and input_shape[-1] != self.filters:
      self.skip_projection = tf.keras.layers.Conv2D(self.filters, 1)
    super().build(input_shape)

  def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
    outputs = self.norm(self.conv(inputs), training=training)
    if self.skip:
      skip = self.skip_pool(inputs) if self.skip_pool is not None else inputs
      if self.skip_projection is not None:
        skip = self.skip_projection(skip)
      outputs += self.skip_norm(skip, training=training)
    return outputs

  def get_config(self) -> dict:
    return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
            "subsample": self.subsample, "skip": self.skip, "activation": self.activation}


class ReconstructionStage(tf.keras.layers.Layer):
  """Upsampling by a transposed conv plus bilinear interpolation of the input, summed.

  The interpolation path is projected by a 1x1 conv when the channel counts differ
  (the last stage goes to 3 channels). A stage with factor 1 is a conv plus identity.
  """

  def __init__(self, filters: int, kernel_size: int, upsample: int, activation: bool,
               **kwargs):
    super().__init__(**kwargs)
    self.filters = filters
    self.kernel_size = kernel_size
    self.upsample = upsample
    self.activation = activation
    self.deconv = tf.keras.layers.Conv2DTranspose(filters, kernel_size, strides=upsample,
                                                  padding="same")
    self.interpolate = (tf.keras.layers.UpSampling2D(upsample, interpolation="bilinear")
                        if upsample > 1 else None)
    self.projection = None

  def build(self, input_shape: tf.TensorShape) -> None:
    if input_shape[-1] != self.filters:
      self.projection = tf.keras.layers.Conv2D(self.filters, 1)
    super().build(input_shape)

  def call(self, inputs: tf.Tensor) -> tf.Tensor:
    direct = self.interpolate(inputs) if self.interpolate is not None else inputs
    if self.projection is not None:
      direct = self.projection(direct)
    outputs = self.deconv(inputs) + direct
    return tf.nn.relu(outputs) if self.activation else outputs

  def get_config(self) -> dict:
    return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
            "upsample": self.upsample, "activation": self.activation}
