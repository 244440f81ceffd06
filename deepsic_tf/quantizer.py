"""The paper's B-bit quantiser (Eq. 1) expressed on the entropy model's integer lattice.

Eq. 1 is Q(f) = ceil(2^(B-1) f) / 2^(B-1): features in [-1, 1) become one of 2^B levels
with step 2^-(B-1). tensorflow-compression's entropy models code integers, rounding (at
test) or adding uniform noise (in training) to their input. Feeding them
v = 2^(B-1) f + 1/2 makes their rounding Eq. 1's ceiling (exact ties aside), and their training
noise exactly the ceiling's error distribution, uniform on [0, 1) lattice steps.
Features are clipped to the B-bit range first, so every code is one of 2^B values.
"""
from __future__ import annotations

import tensorflow as tf


class BBitQuantizer:
  """Maps features to the integer lattice the entropy model codes, and back."""

  def __init__(self, bits: int):
    self.bits = bits
    self.scale = float(2**(bits - 1))

  @property
  def levels(self) -> tuple[int, int]:
    """The smallest and largest integer code, e.g. (-32, 31) for B = 6."""
    return -int(self.scale), int(self.scale) - 1

  def to_lattice(self, features: tf.Tensor) -> tf.Tensor:
    """2^(B-1) f + 1/2 (so that rounding is Eq. 1's ceil), clipped to the B-bit range.

    Clipping after the shift keeps the extreme codes off rounding ties.
    """
    low, high = self.levels
    return tf.clip_by_value(features * self.scale + 0.5, float(low), float(high))

  def from_lattice(self, codes: tf.Tensor) -> tf.Tensor:
    """Dequantised features Q(f) from (rounded or noisy) lattice values."""
    return codes / self.scale

  def quantize(self, features: tf.Tensor) -> tf.Tensor:
    """Eq. 1 directly: the integer codes ceil(2^(B-1) f), clipped to B bits."""
    return tf.round(self.to_lattice(features))
