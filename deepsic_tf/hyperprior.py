"""A context-adaptive entropy model for DeepSIC's code: a scale hyperprior.

DeepSIC's paper (section III-B) codes the quantised features with CABAC: each bit's
probability adapts to what the decoder has already seen. Its learned counterpart is a
hyperprior (Balle et al. 2018, "Variational image compression with a scale hyperprior"):
a second, small code z = h_a(f) travels first, and h_s(z) gives every element of the
B-bit code its own Gaussian scale, so that flat regions cost few bits and edges many.

The decoder must derive exactly the encoder's probability tables from z, in any process
and with any thread count; float convolutions do not promise that (their summation order
may change with the threads). So the coder runs h_s on integers (after Balle, Johnston,
Minnen 2019, "Integer networks for data compression"): weights rounded to multiples of
2^-WEIGHT_BITS, activations to multiples of 2^-ACTIVATION_BITS, every sum an integer
held exactly in float64 (whatever order it is added in), every rescaling a floor
division by a power of two, the scale index a rounding of an integer. Training uses the
float h_s; evaluation (training=False) and the files use the integer one, so the rate a
model reports is the rate of its files.
"""
from __future__ import annotations

import math
from typing import Tuple

import tensorflow as tf
import tensorflow_compression as tfc

# Gaussian scales the code's elements may take, log-spaced (index 0 = SCALE_MIN); the
# B-bit lattice spans 2^B steps, so no element needs more than about 2^(B-1).
NUM_SCALES = 64
SCALE_MIN = 0.11
SCALE_MAX = 64.0
# The integer h_s: weights in steps of 2^-12, activations of 2^-10. A pre-activation is
# a sum of at most 3 * 3 * 64 products of |activation| < 2^17 and |weight| < 2^17 (in
# steps), far inside float64's 2^53 exact integers.
WEIGHT_BITS = 12
ACTIVATION_BITS = 10
# z is HYPER_STRIDE times smaller than the code each side, and h_a and h_s use 3x3
# kernels: h_s then sees a few z positions, so that 224x224 training images (a 7x7 z)
# hold positions away from every border. Balle et al.'s 4x and 5x5 kernels see the whole
# 4x4 z of such an image, border padding included, and what they learn there does not
# carry over to whole photos (docs/deepsic_entropy_model.md: 0.92 bpp on a 384x384 Kodak
# crop against 0.64 on a 224x224 one).
HYPER_STRIDE = 2
HYPER_KERNEL = 3


def scale_of_index(indexes: tf.Tensor) -> tf.Tensor:
  """The Gaussian scale of a (float) scale index: log-linear from SCALE_MIN to SCALE_MAX."""
  step = (math.log(SCALE_MAX) - math.log(SCALE_MIN)) / (NUM_SCALES - 1)
  return tf.math.exp(math.log(SCALE_MIN) + step * tf.cast(indexes, tf.float32))


def hyper_analysis(code_channels: int, hyper_channels: int) -> tf.keras.Model:
  """h_a: the features f to the side code z, HYPER_STRIDE times smaller each side."""
  features = tf.keras.Input((None, None, code_channels), name="features")
  x = tf.keras.layers.Conv2D(hyper_channels, HYPER_KERNEL, padding="same",
                             activation="relu")(features)
  x = tf.keras.layers.Conv2D(hyper_channels, HYPER_KERNEL, strides=HYPER_STRIDE,
                             padding="same", activation="relu")(x)
  z = tf.keras.layers.Conv2D(hyper_channels, HYPER_KERNEL, padding="same")(x)
  return tf.keras.Model(features, z, name="hyper_analysis")


def hyper_synthesis(code_channels: int, hyper_channels: int, with_mean: bool = False
                    ) -> tf.keras.Model:
  """h_s: the decoded side code to a scale index per element of the code (float), and
  with `with_mean` a mean too (Minnen et al. 2018's mean-scale hyperprior): the code's
  channels then carry their offsets, which a zero-mean Gaussian cannot."""
  z = tf.keras.Input((None, None, hyper_channels), name="side_code")
  x = tf.keras.layers.Conv2DTranspose(hyper_channels, HYPER_KERNEL, strides=HYPER_STRIDE,
                                      padding="same", activation="relu")(z)
  x = tf.keras.layers.Conv2D(hyper_channels, HYPER_KERNEL, padding="same", activation="relu")(x)
  parameters = tf.keras.layers.Conv2D(code_channels * (2 if with_mean else 1), HYPER_KERNEL,
                                      padding="same")(x)
  return tf.keras.Model(z, parameters, name="hyper_synthesis")


def side_shape(code_shape: tf.Tensor) -> tf.Tensor:
  """(height, width) of z for a code of (height, width): 'same' padding rounds up."""
  return (code_shape + HYPER_STRIDE - 1) // HYPER_STRIDE


def _floor_shift(values: tf.Tensor, bits: int) -> tf.Tensor:
  """floor(values / 2^bits), exact on float64 integers (a power-of-two division)."""
  return tf.math.floor(values / float(2**bits))


class IntegerSynthesis:
  """h_s on integers: the scale indexes the coder uses, identical on every machine.

  Reads the trained float h_s's variables at every call (so that evaluation during
  training follows the weights) and rounds them to float64 tensors holding integers.
  """

  def __init__(self, synthesis: tf.keras.Model, code_channels: int, levels: Tuple[int, int]):
    """`code_channels` and `levels` (the B-bit lattice's lowest and highest code) are the
    code's, whose parameters `code_parameters` gives."""
    self._layers = synthesis.layers[1:]
    self._code_channels = code_channels
    self._levels = levels

  def _integer_weights(self, layer: tf.keras.layers.Layer) -> Tuple[tf.Tensor, tf.Tensor]:
    kernel = tf.cast(layer.kernel, tf.float64)
    if isinstance(layer, tf.keras.layers.Conv2DTranspose):
      kernel = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2])  # as a plain convolution
    return (tf.round(kernel * float(2**WEIGHT_BITS)),
            tf.round(tf.cast(layer.bias, tf.float64) * float(2**(WEIGHT_BITS + ACTIVATION_BITS))))

  def parameters(self, side_code: tf.Tensor, code_shape: tf.Tensor) -> tf.Tensor:
    """h_s's outputs rounded to integers (N, h, w, C or 2C: scale indexes, then means),
    as float64, from the rounded side code z; cropped to the code's (h, w)."""
    x = tf.cast(side_code, tf.float64) * float(2**ACTIVATION_BITS)
    for position, layer in enumerate(self._layers):
      weights, biases = self._integer_weights(layer)
      if isinstance(layer, tf.keras.layers.Conv2DTranspose):
        x = _zero_upsample(x, int(layer.strides[0]))
      x = tf.nn.conv2d(x, weights, 1, "SAME") + biases
      if position < len(self._layers) - 1:
        x = _floor_shift(tf.nn.relu(x), WEIGHT_BITS)
    # Round half up to the nearest integer: floor((x + 2^(s-1)) / 2^s).
    bits = WEIGHT_BITS + ACTIVATION_BITS
    return _floor_shift(x + float(2**(bits - 1)), bits)[:, :code_shape[0], :code_shape[1]]

  def code_parameters(self, side_code: tf.Tensor, code_shape: tf.Tensor
                      ) -> Tuple[tf.Tensor, tf.Tensor | None]:
    """`exact_parameters` of `parameters`: what the coder uses, the same in every process."""
    return exact_parameters(self.parameters(side_code, code_shape), self._code_channels,
                            self._levels)


def _zero_upsample(x: tf.Tensor, stride: int) -> tf.Tensor:
  """Inserts stride - 1 zeros after every row and column: with a flipped kernel, a
  'same' convolution of this is Keras' 'same' transposed convolution (stride 2, kernel 3
  or 5: `test_integer_synthesis_rounds_the_float_network`)."""
  shape = tf.shape(x)
  batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
  x = tf.reshape(x, [batch, height, 1, width, 1, channels])
  x = tf.pad(x, [[0, 0], [0, 0], [0, stride - 1], [0, 0], [0, stride - 1], [0, 0]])
  x = tf.reshape(x, [batch, height * stride, width * stride, channels])
  # Keras places the kernel of a 'same' transposed convolution one step earlier than a
  # 'same' convolution of the zero-inserted input: shift by one row and column.
  x = tf.pad(x, [[0, 0], [1, 0], [1, 0], [0, 0]])
  return x[:, :height * stride, :width * stride]


def split_parameters(parameters: tf.Tensor, code_channels: int, levels: Tuple[int, int]
                     ) -> Tuple[tf.Tensor, tf.Tensor | None]:
  """(scale indexes, means or None) from h_s's outputs, clipped to what the coder takes:
  indexes to the scale table, means to the B-bit lattice's `levels` (low, high)."""
  indexes = tf.clip_by_value(parameters[..., :code_channels], 0.0, float(NUM_SCALES - 1))
  if parameters.shape[-1] == code_channels:
    return indexes, None
  low, high = levels
  return indexes, tf.clip_by_value(parameters[..., code_channels:], float(low), float(high))


def exact_parameters(parameters: tf.Tensor, code_channels: int, levels: Tuple[int, int]
                     ) -> Tuple[tf.Tensor, tf.Tensor | None]:
  """`split_parameters` of the integer h_s's outputs: int32 indexes, float32 integer means.

  An integer mean keeps Eq. 1's lattice: the coder rounds the code minus its mean, which
  is the rounded code minus the mean.
  """
  indexes, means = split_parameters(parameters, code_channels, levels)
  return tf.cast(indexes, tf.int32), None if means is None else tf.cast(means, tf.float32)


def code_model(compression: bool) -> tfc.LocationScaleIndexedEntropyModel:
  """The code's entropy model: a Gaussian per element, indexed by scale, zero-mean or
  at the integer mean h_s gives (`exact_parameters`)."""
  return tfc.LocationScaleIndexedEntropyModel(
      tfc.NoisyNormal, NUM_SCALES, scale_of_index, coding_rank=3, compression=compression)
