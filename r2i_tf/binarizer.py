"""The stochastic binariser of Raiko et al. (2015), as used by Toderici et al. and paper 2.

In training, x in [-1, 1] becomes +1 with probability (1 + x) / 2 and -1 otherwise, so
the expectation of the code is x itself; the gradient is passed straight through as if
the binariser were the identity (the "biased estimator"). At test the code is the sign
of x (with sign(0) = +1, so that every value maps to a bit).
"""
from __future__ import annotations

import tensorflow as tf


def binarize(x: tf.Tensor, training: bool) -> tf.Tensor:
  """+-1 codes of `x` (values in [-1, 1]); stochastic with a straight-through gradient."""
  if training:
    probability_one = (1.0 + x) / 2.0
    sample = tf.where(tf.random.uniform(tf.shape(x)) < probability_one, 1.0, -1.0)
    return x + tf.stop_gradient(sample - x)
  return tf.where(x >= 0.0, 1.0, -1.0)


def to_bits(codes: tf.Tensor) -> tf.Tensor:
  """+-1 codes to 0/1 uint8 bits."""
  return tf.cast(codes > 0.0, tf.uint8)


def from_bits(bits: tf.Tensor) -> tf.Tensor:
  """0/1 bits to +-1 float codes."""
  return 2.0 * tf.cast(bits, tf.float32) - 1.0
