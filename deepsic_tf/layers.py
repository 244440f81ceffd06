"""The two stage types of DeepSIC's feature extractor and reconstruction (paper, Fig. 3).

A feature stage is conv -> subsample -> batch norm, and it adds the batch-normalised
output of the stage before it (resampled to match) so that features are reused across
stages (section III-A). A reconstruction stage upsamples along two paths, a transposed
convolution and a plain interpolation of its input, and sums them (section III-C).

The paper names no nonlinearity. `nonlinearity` picks one (docs/deepsic_ablation.md has
the measurements): GDN / inverse GDN (Balle et al., "End-to-end optimized image
compression", 2017), or ReLU, applied after the sum of a stage's two paths; or, as the
first design had it, ReLU inside the conv, before batch norm.
"""
from __future__ import annotations

import tensorflow as tf
import tensorflow_compression as tfc


def _nonlinearity(kind: str, inverse: bool) -> tf.keras.layers.Layer:
  if kind == "gdn":
    return tfc.GDN(inverse=inverse)
  return tf.keras.layers.ReLU()


class FeatureStage(tf.keras.layers.Layer):
  """Strided conv (conv + subsampling), batch norm, a normalised skip, a nonlinearity.

  The skip is the stage's input, average-pooled by the subsampling factor, projected by
  a 1x1 conv when the channel counts differ, and batch-normalised before it is added.
  The first stage, whose input is the image, has no skip; the last has no nonlinearity
  (the code's tanh follows it).
  """

  def __init__(self, filters: int, kernel_size: int, subsample: int, skip: bool,
               nonlinearity: str | None, **kwargs):
    super().__init__(**kwargs)
    self.filters = filters
    self.kernel_size = kernel_size
    self.subsample = subsample
    self.skip = skip
    self.nonlinearity = nonlinearity
    before_norm = nonlinearity == "relu-before-norm"
    self.conv = tf.keras.layers.Conv2D(filters, kernel_size, strides=subsample, padding="same",
                                       activation="relu" if before_norm else None)
    self.norm = tf.keras.layers.BatchNormalization()
    self.activation = (_nonlinearity(nonlinearity, inverse=False)
                       if nonlinearity and not before_norm else None)
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
    return self.activation(outputs) if self.activation is not None else outputs

  def get_config(self) -> dict:
    return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
            "subsample": self.subsample, "skip": self.skip, "nonlinearity": self.nonlinearity}


class ReconstructionStage(tf.keras.layers.Layer):
  """Upsampling by a transposed conv plus bilinear interpolation of the input, summed.

  The transposed conv is the main path. The interpolation path is projected by a 1x1
  conv when the channel counts differ (the last stage goes to 3 channels); with
  `residual_interpolation` (all but the first design), that projection starts at zero,
  so the interpolation enters as a residual the training grows where it helps rather
  than a blur the learned path must correct. A stage with factor 1 is a conv plus identity.
  """

  def __init__(self, filters: int, kernel_size: int, upsample: int, nonlinearity: str | None,
               residual_interpolation: bool = True, **kwargs):
    super().__init__(**kwargs)
    self.filters = filters
    self.kernel_size = kernel_size
    self.upsample = upsample
    self.nonlinearity = nonlinearity
    self.residual_interpolation = residual_interpolation
    self.deconv = tf.keras.layers.Conv2DTranspose(filters, kernel_size, strides=upsample,
                                                  padding="same")
    self.interpolate = (tf.keras.layers.UpSampling2D(upsample, interpolation="bilinear")
                        if upsample > 1 else None)
    self.activation = (_nonlinearity(nonlinearity, inverse=True) if nonlinearity else None)
    self.projection = None

  def build(self, input_shape: tf.TensorShape) -> None:
    if input_shape[-1] != self.filters:
      initializer = "zeros" if self.residual_interpolation else "glorot_uniform"
      self.projection = tf.keras.layers.Conv2D(self.filters, 1, kernel_initializer=initializer)
    super().build(input_shape)

  def call(self, inputs: tf.Tensor) -> tf.Tensor:
    direct = self.interpolate(inputs) if self.interpolate is not None else inputs
    if self.projection is not None:
      direct = self.projection(direct)
    outputs = self.deconv(inputs) + direct
    return self.activation(outputs) if self.activation is not None else outputs

  def get_config(self) -> dict:
    return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
            "upsample": self.upsample, "nonlinearity": self.nonlinearity,
            "residual_interpolation": self.residual_interpolation}
