"""A learned probability model of a coder's bits, computed in exact integer arithmetic.

The range coder needs the same CDF index for every bit at encoding and at decoding time,
in any process, on any machine and with any thread count; one index off and the rest of
the stage decodes to garbage. Float networks do not give that (the order of a sum
changes its rounding), so the network is trained in float (`r2i_tf.bit_model_train`)
and shipped as integers:

  hidden = max(x @ W1 + b1, 0)
  logit  = hidden @ W2 + b2 + w_adaptive * a
  index  = the number of thresholds <= logit

where x are a block's int8 context inputs (earlier stages, the rows above, the passes
before in its own row) and a its adaptive inputs, one per bit (`r2i_tf.bit_contexts`),
W1 and W2 int16 weights, w_adaptive a weight per bit, and the thresholds the logits of
the probability bins' edges k / BINS on the integer logit's scale, so that the index is
floor(BINS * P(one)) of the float network up to its quantisation. The matmuls run as
BLAS on integer values held in floats, exact whatever the order of summation: the first
layer in float32, whose every partial sum `BitModel` bounds below 2^24, the second in
float64, whose sums stay below 2^53. `reference_indexes` computes the same in int64
numpy, the definition the tests hold the fast path to.

int16, not int8: a trained W1 has a few large weights and thousands of small ones; with
one int8 scale per matrix 98 % of a 512-unit W1 rounded to -2..2, which cost 1.5 % of
the rate against the float network (docs/r2i_bit_model.md).
"""
from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path
from typing import Iterable, Sequence, Tuple

import numpy as np
import tensorflow as tf

from compression_eval.errors import UserError
from compression_eval.fileio import read_arrays, write_arrays
from r2i_tf import bit_contexts
from r2i_tf.entropy import BINS

FILE_NAME = "bit_model.npz"
WEIGHT_MAX = 2**15 - 1  # int16
EXACT = 2**24  # float32 holds every integer of smaller magnitude (the first layer)
EXACT_SECOND = 2**53  # and float64 (the second)
ADAPTIVE_SCALE = 32.0  # the float network sees the adaptive inputs divided by this
# Multiply-adds up to which `_exact_matmul` uses einsum's single-threaded loop, by the
# bytes of the dtype, float32 and float64 (the fastest for the decoder's row-by-row
# products on the reference machine).
_SMALL = {4: 2**16, 8: 2**19}
_ARRAYS = ("w_earlier", "w_above", "w_group", "b1", "w2", "b2", "w_adaptive", "thresholds")


@dataclasses.dataclass(frozen=True)
class BitModel:
  """The integer tables of one coder's bit model.

  w_earlier (earlier_size, hidden), w_above (above_size, hidden) and w_group
  (group_size, hidden): W1's rows for the three kinds of context inputs; b1 (hidden,);
  w2 (hidden, bits); b2 (bits,); w_adaptive (bits,): the weight of each bit's adaptive
  input on its logit; thresholds (BINS - 1,) increasing; stages: the coder's stage
  count; groups: the passes a row of blocks is coded in; model_ids: the ids of the
  coders (`r2i_tf.codec.model_id`) it was trained for, whose files it may code.
  """
  w_earlier: np.ndarray
  w_above: np.ndarray
  w_group: np.ndarray
  b1: np.ndarray
  w2: np.ndarray
  b2: np.ndarray
  w_adaptive: np.ndarray
  thresholds: np.ndarray
  stages: int
  groups: int
  model_ids: tuple

  def __post_init__(self):
    bits, hidden = self.w2.shape[1], self.w2.shape[0]
    shapes_fit = (
        self.w_earlier.shape == (bit_contexts.earlier_size(bits, self.stages), hidden)
        and self.w_above.shape == (bit_contexts.above_size(bits), hidden)
        and bits % 4 == 0 and 1 <= self.groups and (bits // 4) % self.groups == 0
        and self.w_group.shape == (bit_contexts.group_size(bits, self.groups), hidden)
        and self.b1.shape == (hidden,) and self.b2.shape == self.w_adaptive.shape == (bits,)
        and self.thresholds.shape == (BINS - 1,))
    weights = (self.w_earlier, self.w_above, self.w_group, self.w2)
    if not (shapes_fit and all(np.abs(w).max(initial=0) <= WEIGHT_MAX for w in weights)
            and np.all(np.diff(self.thresholds) >= 0)):
      raise UserError("not a valid R2I bit model (inconsistent tables)")
    first = sum(np.abs(w).sum(0, dtype=np.int64) for w in weights[:3]) + np.abs(self.b1)
    if (first.max() >= EXACT
        or float(first.max()) * np.abs(self.w2).sum(0, dtype=np.int64).max() >= EXACT_SECOND):
      raise UserError("not a valid R2I bit model (its sums could exceed float32's integers)")

  @property
  def bits(self) -> int:
    return self.w2.shape[1]

  @classmethod
  def quantise(cls, weights: Sequence[np.ndarray], stages: int, groups: int,
               model_ids: Iterable[int]) -> "BitModel":
    """The integer model of a float network's [W1, b1, W2, b2, w_adaptive] (whose
    adaptive inputs are the integer ones / ADAPTIVE_SCALE).

    W1 and W2 are scaled by the largest powers of two that keep them within
    WEIGHT_MAX and every first-layer sum below EXACT (the context inputs are -1, 0 or
    1, so a column's sum of |W1| and |b1| bounds it). A logit of the integer model is
    the float logit times the product of the scales, so the bins' edges are the float
    edges times it.
    """
    w1, b1, w2, b2, adaptive = (np.asarray(w, np.float64) for w in weights)
    column_sums = np.abs(w1).sum(0) + np.abs(b1)
    s1 = 2.0 ** np.floor(min(np.log2(WEIGHT_MAX / np.abs(w1).max()),
                             np.log2((EXACT - 1) / column_sums.max()) - 1))
    s2 = 2.0 ** np.floor(np.log2(WEIGHT_MAX / np.abs(w2).max()))
    scale = s1 * s2
    edges = np.arange(1, BINS) / BINS
    w1q = np.round(w1 * s1).astype(np.int16)
    earlier = bit_contexts.earlier_size(w2.shape[1], stages)
    above = earlier + bit_contexts.above_size(w2.shape[1])
    return cls(w_earlier=w1q[:earlier], w_above=w1q[earlier:above], w_group=w1q[above:],
               b1=np.round(b1 * s1).astype(np.int64), w2=np.round(w2 * s2).astype(np.int16),
               b2=np.round(b2 * scale).astype(np.int64),
               w_adaptive=np.round(adaptive * scale / ADAPTIVE_SCALE).astype(np.int64),
               thresholds=np.ceil(np.log(edges / (1 - edges)) * scale).astype(np.int64),
               stages=stages, groups=groups, model_ids=tuple(int(i) for i in model_ids))

  @functools.cached_property
  def _floats(self) -> Tuple[np.ndarray, ...]:
    """w_earlier, w_above and w_group as float32 and w2 as float64, for `_exact_matmul`."""
    return (*(w.astype(np.float32) for w in (self.w_earlier, self.w_above, self.w_group)),
            self.w2.astype(np.float64))

  @functools.cached_property
  def _layer_one(self) -> Tuple["_Weights", "_Weights", "_Weights"]:
    """w_earlier, w_above and w_group as `_Weights`, made once for every product."""
    return tuple(_Weights(weights) for weights in self._floats[:3])

  @functools.cached_property
  def _earlier_known(self) -> Tuple[Tuple[Tuple[slice, "_Weights"], ...], ...]:
    """Per number of earlier stages, the runs of `bit_contexts.earlier_known` with their
    rows of w_earlier as `_Weights`."""
    return tuple(tuple((columns, _Weights(self._floats[0][columns]))
                       for columns in bit_contexts.earlier_known(self.bits, stage))
                 for stage in range(self.stages))

  @functools.cached_property
  def pass_bits(self) -> Tuple[np.ndarray, ...]:
    """Per pass, the positions of the block's bits it codes."""
    return tuple(bit_contexts.pass_channels(self.bits, self.groups, group)
                 for group in range(self.groups))

  def earlier_part(self, inputs: np.ndarray, stage: int | None = None) -> np.ndarray:
    """x @ W1 + b1 (N, hidden) int64 over the earlier-stage inputs (N, earlier_size);
    given the number of earlier stages, over the columns that can be non-zero alone
    (`bit_contexts.earlier_known`): the first stage's inputs are its one-hot."""
    if stage is None:
      return _exact_matmul(inputs, self._layer_one[0]) + self.b1
    one_hot = self.w_earlier[self.w_earlier.shape[0] - self.stages + stage]
    first = self.b1 + one_hot
    for columns, weights in self._earlier_known[stage]:
      first = first + _exact_matmul(inputs[:, columns], weights)
    return np.broadcast_to(first, (len(inputs), len(self.b1)))

  def above_part(self, inputs: np.ndarray) -> np.ndarray:
    """x @ W1 (..., hidden) int64 over the above-row inputs (..., above_size)."""
    return _exact_matmul(inputs, self._layer_one[1])

  def group_part(self, inputs: np.ndarray) -> np.ndarray:
    """x @ W1 (N, hidden) int64 over a pass's inputs (N, group_size)."""
    return _exact_matmul(inputs, self._layer_one[2])

  @functools.cached_property
  def _pass_changes(self) -> Tuple[Tuple["_Weights", np.ndarray], ...]:
    """Per pass: the W1 rows of its `bit_contexts.group_new_columns` as float32, and
    the change of the pass one-hot's W1 row from the pass before."""
    one_hot = self.w_group[3 * self.bits:].astype(np.int64)
    return tuple((_Weights(self._floats[2][bit_contexts.group_new_columns(
                      self.bits, self.groups, group)]),
                  one_hot[group] - (one_hot[group - 1] if group else 0))
                 for group in range(self.groups))

  def group_change(self, row_bits: np.ndarray, group: int) -> np.ndarray:
    """`group_part` of pass `group`'s inputs over rows (..., cols, hidden) less that of
    pass group - 1's (nothing before the first pass), from the rows' current-stage bits
    (..., cols, bits), of which earlier passes' are used: a pass's inputs are the pass
    before's and one more slice of channels, so the coder adds that slice alone, a
    quarter of the products of `group_part` at four passes (docs/r2i_bit_model.md,
    Timing)."""
    weights, one_hot = self._pass_changes[group]
    inputs = bit_contexts.group_new_inputs(row_bits, group, self.groups)
    return _exact_matmul(inputs, weights) + one_hot

  @functools.cached_property
  def _pass_outputs(self) -> Tuple[Tuple[np.ndarray, "_Weights", np.ndarray, np.ndarray], ...]:
    """Per pass, and then for all bits: the bits' positions, W2's columns for them as
    float64, b2's and w_adaptive's entries."""
    return tuple((columns, _Weights(self._floats[3][:, columns]),
                  self.b2[columns], self.w_adaptive[columns])
                 for columns in (*self.pass_bits, np.arange(self.bits)))

  def bins(self, first: np.ndarray, adaptive: np.ndarray, group: int = -1) -> np.ndarray:
    """CDF indexes (N, bits of the pass) int32 of pass `group`'s bits (all bits for -1)
    from the first layer's sums (N, hidden) and the adaptive inputs (N or 1, bits)."""
    columns, w2, b2, w_adaptive = self._pass_outputs[group]
    logits = (_exact_matmul(np.maximum(first, 0), w2) + b2
              + w_adaptive * adaptive[..., columns])
    return np.searchsorted(self.thresholds, logits, side="right").astype(np.int32)

  def indexes(self, context: np.ndarray, adaptive: np.ndarray) -> np.ndarray:
    """CDF indexes (N, bits) of blocks' whole context inputs (N, earlier + above +
    group size) and adaptive inputs (N, bits)."""
    earlier = self.w_earlier.shape[0]
    above = earlier + self.w_above.shape[0]
    return self.bins(self.earlier_part(context[:, :earlier])
                     + self.above_part(context[:, earlier:above])
                     + self.group_part(context[:, above:]), adaptive)

  def reference_indexes(self, context: np.ndarray, adaptive: np.ndarray) -> np.ndarray:
    """`indexes` in int64 arithmetic alone: the definition, slow."""
    w1 = np.concatenate([self.w_earlier, self.w_above, self.w_group]).astype(np.int64)
    first = context.astype(np.int64) @ w1 + self.b1
    hidden = np.maximum(first, 0)
    logits = (hidden @ self.w2.astype(np.int64) + self.b2
              + self.w_adaptive * adaptive.astype(np.int64))
    return (logits[..., np.newaxis] >= self.thresholds).sum(-1).astype(np.int32)

  def check_coder(self, model_id: int, stages: int, bits: int) -> None:
    """Refuses to code the bits of a coder the model was not trained for."""
    if model_id not in self.model_ids or (stages, bits) != (self.stages, self.bits):
      raise UserError(f"the bit model is not for this R2I model (id {model_id:08x}, "
                      f"{stages} stages of {bits} bits per block)")

  def save(self, path: str | Path) -> None:
    write_arrays(path, {**{name: getattr(self, name) for name in _ARRAYS},
                        "stages": np.int64(self.stages),
                        "groups": np.int64(self.groups),
                        "model_ids": np.array(self.model_ids, np.int64)})

  @classmethod
  def load(cls, path: str | Path) -> "BitModel":
    """The model in a bit_model.npz, or a one-line `UserError`."""
    stored = read_arrays(path, (*_ARRAYS, "stages", "groups", "model_ids"),
                         "an R2I bit model")
    arrays = {name: stored[name] for name in _ARRAYS}
    try:
      scalars = {name: int(stored[name]) for name in ("stages", "groups")}
      model_ids = tuple(int(i) for i in stored["model_ids"].reshape(-1))
    except (TypeError, ValueError):
      raise UserError(f"{path} is not an R2I bit model (wrong scalars)") from None
    integer = {"w_earlier", "w_above", "w_group", "w2"}  # int16; the others int64
    if any(arrays[name].dtype != (np.int16 if name in integer else np.int64) for name in arrays):
      raise UserError(f"{path} is not an R2I bit model (wrong table types)")
    return cls(**arrays, **scalars, model_ids=model_ids)


class _Weights:
  """Integer weights held in float32 or float64 for `_exact_matmul`, with TensorFlow's
  copy of them made once: converting the weights again on each of the decoder's
  row-by-row products took half of each product's time (docs/r2i_bit_model.md, Timing)."""

  def __init__(self, values: np.ndarray):
    self.values = np.ascontiguousarray(values)

  @functools.cached_property
  def tensor(self) -> tf.Tensor:
    """The values as a TensorFlow constant, made on the first product that needs it."""
    return tf.constant(self.values)


def _exact_matmul(inputs: np.ndarray, weights: _Weights) -> np.ndarray:
  """inputs (..., k) @ weights (k, h) (float32 or float64 holding integers) as int64:
  exact while every sum stays below 2^24 (float32) or 2^53 (float64) in magnitude,
  which `BitModel` checks for its tables, so the order of the sums (kernels, threads)
  does not matter.

  Small products go through einsum's single-threaded loop: on a busy machine a
  multi-threaded BLAS call waits milliseconds for its threads, which thin images'
  decoders would pay thousands of times. Larger float32 ones go through TensorFlow's
  (oneDNN's) kernel where `_tensorflow_is_exact`: on one core of the reference machine,
  numpy's OpenBLAS took 45 ms for a Kodak stage's first layer where TensorFlow took
  5 ms; in float64 neither was faster (docs/r2i_bit_model.md, Timing)."""
  values = weights.values
  leading = inputs.shape[:-1]
  inputs = inputs.reshape(math.prod(leading), inputs.shape[-1]).astype(values.dtype)
  if inputs.size * values.shape[1] <= _SMALL[values.itemsize]:
    product = np.einsum("nk,kh->nh", inputs, values, optimize=False)
  elif values.dtype == np.float32 and _tensorflow_is_exact():
    product = tf.linalg.matmul(inputs, weights.tensor).numpy()
  else:
    product = inputs @ values
  return product.astype(np.int64).reshape(*leading, values.shape[1])


@functools.lru_cache(maxsize=None)
def _tensorflow_is_exact() -> bool:
  """Whether TensorFlow's float32 matmul computes the first layer's integer products
  exactly here. It does, but oneDNN can be told to compute float32 in bfloat16
  (ONEDNN_DEFAULT_FPMATH_MODE), whose 8-bit mantissa would round int16 weights and give
  this machine indexes no other computes. Checked once per process on a product at the
  weights' bound; the coder falls back to numpy where it fails."""
  rng = np.random.default_rng(0)
  inputs = rng.integers(-1, 2, (64, 256)).astype(np.float32)
  weights = rng.integers(-WEIGHT_MAX, WEIGHT_MAX + 1, (256, 64)).astype(np.float32)
  product = tf.linalg.matmul(inputs, weights).numpy().astype(np.int64)
  return bool(np.array_equal(product, inputs.astype(np.int64) @ weights.astype(np.int64)))
