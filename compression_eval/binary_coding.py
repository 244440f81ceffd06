"""Binary decisions through tensorflow-compression's range coder, with quantised probabilities.

An adaptive model's probability changes after every row it codes, while the range coder
takes its CDFs once, when it starts. So the probability of a one is quantised to one of
`BINS` values, (k + 1/2) / BINS, each a two-symbol CDF of `LOOKUP`; a decision is coded
with the index k of its bin. R2I's bit models (`r2i_tf.entropy`, `r2i_tf.learned_entropy`)
and DeepSIC's context-adaptive coder (`deepsic_tf.context_coding`) share the table.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

PRECISION = 16  # bits of the range coder's CDFs
BINS = 64  # the probability of a one is quantised to one of BINS CDFs


def _lookup() -> tf.Tensor:
  """A CDF per bin: [precision, 0, P(bit < 1), 1] scaled by 2^precision."""
  one = (np.arange(BINS) + 0.5) / BINS
  scale = 1 << PRECISION
  below_one = np.clip(np.round((1.0 - one) * scale), 1, scale - 1)
  rows = np.stack([np.full(BINS, PRECISION), np.zeros(BINS), below_one, np.full(BINS, scale)], -1)
  return tf.constant(rows.astype(np.int32))


LOOKUP = _lookup()


def ideal_bits(indexes: np.ndarray, bits: np.ndarray) -> float:
  """-sum log2 P(bit) of bits under their bin indexes: the rate a perfect coder spends."""
  one = (np.asarray(indexes) + 0.5) / BINS
  return float(-np.sum(np.where(np.asarray(bits) == 1, np.log2(one), np.log2(1.0 - one))))
