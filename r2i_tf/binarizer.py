"""The stochastic binariser of Raiko et al. (2015), as used by Toderici et al. and paper 2.

In training, x in [-1, 1] becomes +1 with probability (1 + x) / 2 and -1 otherwise, so
the expectation of the code is x itself; the gradient is passed straight through as if
the binariser were the identity (the "biased estimator"). At test the code is the sign
of x (with sign(0) = +1, so that every value maps to a bit).

In training a bit differs from the sign of x with probability (1 - |x|) / 2. A saturated
tanh (|x| near 1) flips hardly any and passes hardly any gradient (its derivative is
1 - x^2), so the stage's encoder stops learning (issue 19: the full variant at mean |x|
0.98 by stage 8, 1 % of bits flipped). `health` measures both, per stage, in training.
"""
from __future__ import annotations

from typing import Tuple

import tensorflow as tf


def binarize(x: tf.Tensor, training: bool) -> tf.Tensor:
  """+-1 codes of `x` (values in [-1, 1]); stochastic with a straight-through gradient."""
  if training:
    probability_one = (1.0 + x) / 2.0
    sample = tf.where(tf.random.uniform(tf.shape(x)) < probability_one, 1.0, -1.0)
    return x + tf.stop_gradient(sample - x)
  return tf.where(x >= 0.0, 1.0, -1.0)


def health(x: tf.Tensor, codes: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
  """Mean |x| of a stage's tanh `x`, and the fraction of its `codes` that differ from the
  sign of x: the bits the stochastic binariser flipped (none at test)."""
  flipped = codes * binarize(x, training=False) < 0.0  # codes are +-1 up to rounding
  return tf.reduce_mean(tf.abs(x)), tf.reduce_mean(tf.cast(flipped, tf.float32))


def to_bits(codes: tf.Tensor) -> tf.Tensor:
  """+-1 codes to 0/1 uint8 bits."""
  return tf.cast(codes > 0.0, tf.uint8)


def from_bits(bits: tf.Tensor) -> tf.Tensor:
  """0/1 bits to +-1 float codes."""
  return 2.0 * tf.cast(bits, tf.float32) - 1.0
