"""What the decoder knows of a block's bits when it decodes them: the bit model's inputs.

Stages are decoded one after the other, each over the whole image, and within a stage
one row of blocks per range-coder call (`r2i_tf.learned_entropy`). So when a block's
stage-s bits are decoded, the decoder has

  - every block's bits of the stages before s: the block's own last `LAGS` stages, and
    the eight neighbours' stage s - 1 (a coder's stages refine the same picture, so a
    bit follows the bits the same block and its surroundings wrote before);
  - the stage-s bits of the rows of blocks above: the three blocks above it (the image
    is smooth across blocks, so neighbours at the same stage write alike), and how often
    each of the 128 bit positions was one in all those rows: the adaptive model's
    statistic (`r2i_tf.entropy`), which carries what is peculiar to this image;
  - the stage-s bits of its own row that earlier passes decoded: a row's bits are
    decoded in `groups` passes, each a slice of the binarizer's channels at all four
    positions of the 2 x 2 block, so pass g sees passes < g of the block itself and of
    its left and right neighbours (the channels of one block are far from independent:
    with four passes, the IR2I coder's stage-1 bits cost 16 % less, docs/r2i_bit_model.md).

Each block's inputs are these bits as +1 / -1, with 0 for what does not exist (outside
the image, stages before the first), then a one-hot of the stage. The first group
(`earlier_inputs`) is known for a whole stage at once; the second (`above_inputs`) only
row by row, so the decoder adds the network's partial sums over them row by row; the
third (`group_inputs`) pass by pass. The counts (`adaptive_inputs`) are the
Krichevsky-Trofimov estimate's bin, centred: -32 to 31 per bit position, 0 before any
row is decoded. Inputs are int8, so the integer network (`r2i_tf.bit_model`) computes on
them exactly.
"""
from __future__ import annotations

import functools
from typing import List, Sequence, Tuple

import numpy as np

from r2i_tf.entropy import BINS

LAGS = 3  # earlier stages of the block itself
NEIGHBOURS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))
ABOVE = ((-1, -1), (-1, 0), (-1, 1))


def earlier_size(bits: int, stages: int) -> int:
  """Inputs per block known before its stage: LAGS + 8 neighbours' codes, and the stage."""
  return (LAGS + len(NEIGHBOURS)) * bits + stages


def above_size(bits: int) -> int:
  return len(ABOVE) * bits


def group_size(bits: int, groups: int) -> int:
  """Inputs per block of a pass: its own, left and right blocks' bits, the pass one-hot."""
  return 3 * bits + groups


def channel_groups(bits: int, groups: int) -> np.ndarray:
  """The pass (bits,) of each of a block's bits, (2, 2, channels) flattened: pass g codes
  the g-th slice of the channels at all four positions."""
  channels = bits // 4
  return (np.arange(bits) % channels) // (channels // groups)


def _signs(grid: np.ndarray) -> np.ndarray:
  """0/1 bits to +1 / -1 as int8."""
  return grid.astype(np.int8) * 2 - 1


def _shifted(signs: np.ndarray, offsets: Sequence[Tuple[int, int]]) -> np.ndarray:
  """For each block of signs (rows, cols, bits), its neighbours' at `offsets` side by side
  (rows, cols, len(offsets) * bits); 0 outside the grid."""
  rows, cols, _ = signs.shape
  padded = np.pad(signs, ((1, 1), (1, 1), (0, 0)))
  return np.concatenate([padded[1 + dy:1 + dy + rows, 1 + dx:1 + dx + cols]
                         for dy, dx in offsets], axis=-1)


def earlier_inputs(earlier: np.ndarray, stages: int) -> np.ndarray:
  """Inputs (rows * cols, earlier_size) of a stage's blocks from the stages before it.

  Args:
    earlier: 0/1 bits (s, rows, cols, bits) of stages 1 to s, for stage s + 1's inputs.
    stages: the coder's stage count (the one-hot's length).
  """
  stage, rows, cols, bits = earlier.shape
  own = np.zeros((rows, cols, LAGS * bits), np.int8)
  for lag in range(1, min(LAGS, stage) + 1):
    own[..., (lag - 1) * bits:lag * bits] = _signs(earlier[stage - lag])
  neighbours = (_shifted(_signs(earlier[-1]), NEIGHBOURS) if stage else
                np.zeros((rows, cols, len(NEIGHBOURS) * bits), np.int8))
  one_hot = np.zeros((rows, cols, stages), np.int8)
  one_hot[..., stage] = 1
  return np.concatenate([own, neighbours, one_hot], axis=-1).reshape(rows * cols, -1)


def earlier_known(bits: int, stage: int) -> Tuple[slice, ...]:
  """The runs of `earlier_inputs` columns that carry bits when `stage` stages are
  decoded: the block's own last min(LAGS, stage) stages and, from the second stage on,
  its neighbours'. The others are 0 but the stage's one-hot, so the coder skips them."""
  if not stage:
    return ()
  own, neighbours = min(LAGS, stage) * bits, (LAGS + len(NEIGHBOURS)) * bits
  if own == LAGS * bits:
    return (slice(0, neighbours),)
  return slice(0, own), slice(LAGS * bits, neighbours)


def earlier_rows(earlier: np.ndarray, top: int, bottom: int, stages: int) -> np.ndarray:
  """`earlier_inputs` of rows top to bottom - 1 ((bottom - top) * cols, earlier_size),
  from those rows and their neighbours alone: the coder works a band of rows at a time,
  so its memory does not grow with the image."""
  above = max(top - 1, 0)
  cols = earlier.shape[2]
  inputs = earlier_inputs(earlier[:, above:bottom + 1], stages)
  return inputs[(top - above) * cols:(bottom - above) * cols]


def above_inputs(current: np.ndarray) -> np.ndarray:
  """Inputs (rows, cols, above_size) of each block from the current stage's 0/1 bits
  (rows, cols, bits): those of the three blocks above it (the first row's are 0)."""
  return _shifted(_signs(current), ABOVE)


def above_row(current: np.ndarray, row: int) -> np.ndarray:
  """`above_inputs` of one row (cols, above_size), from the rows above it alone."""
  return above_inputs(current[max(row - 1, 0):row + 1])[-1]


@functools.lru_cache(maxsize=None)
def pass_channels(bits: int, groups: int, group: int) -> np.ndarray:
  """The positions of a block's bits that pass `group` codes (none for group -1)."""
  return np.flatnonzero(channel_groups(bits, groups) == group)


def group_new_columns(bits: int, groups: int, group: int) -> np.ndarray:
  """The columns of `group_inputs` whose bits pass `group` knows and pass group - 1 did
  not: pass group - 1's channels of the block and of its left and right neighbours
  (none for the first pass). The coder adds each pass's new inputs alone."""
  channels = pass_channels(bits, groups, group - 1)
  return np.concatenate([channels, channels + bits, channels + 2 * bits])


def group_new_inputs(row_bits: np.ndarray, group: int, groups: int) -> np.ndarray:
  """`group_inputs` of pass `group` at its `group_new_columns` (..., cols,
  3 * bits / groups), built from those bits of the rows (..., cols, bits) alone."""
  return _with_row_neighbours(
      _signs(row_bits[..., pass_channels(row_bits.shape[-1], groups, group - 1)]))


def _with_row_neighbours(signs: np.ndarray) -> np.ndarray:
  """Each block's signs (..., cols, width) and its left and right neighbours' in the
  row, side by side (..., cols, 3 * width); 0 outside the image."""
  width = signs.shape[-1]
  inputs = np.zeros(signs.shape[:-1] + (3 * width,), np.int8)
  inputs[..., :width] = signs
  inputs[..., 1:, width:2 * width] = signs[..., :-1, :]  # the left neighbour's
  inputs[..., :-1, 2 * width:] = signs[..., 1:, :]  # the right neighbour's
  return inputs


def group_inputs(row_bits: np.ndarray, group: int, groups: int) -> np.ndarray:
  """Inputs (..., cols, group_size) of pass `group` over a row of blocks, from the row's
  current-stage 0/1 bits (..., cols, bits), of which only earlier passes' are used: the
  block's own, its left and its right neighbours' (0 outside the image), then the pass's
  one-hot."""
  known = channel_groups(row_bits.shape[-1], groups) < group
  signs = _signs(row_bits) * known.astype(np.int8)
  one_hot = np.zeros(signs.shape[:-1] + (groups,), np.int8)
  one_hot[..., group] = 1
  return np.concatenate([_with_row_neighbours(signs), one_hot], axis=-1)


def adaptive_bins(ones: np.ndarray, seen) -> np.ndarray:
  """The centred bin (int8, -32 to 31) of the estimated probability of a one,
  (ones + 1/2) / (seen + 1), from a count of ones among `seen` bits (int64, broadcasting);
  in integers: floor(BINS * (2 ones + 1) / (2 seen + 2))."""
  bins = np.minimum((2 * BINS * ones + BINS) // (2 * seen + 2), BINS - 1)
  return (bins - BINS // 2).astype(np.int8)


def adaptive_inputs(current: np.ndarray) -> np.ndarray:
  """Per row, each bit position's `adaptive_bins` (rows, bits) over the rows of
  `current` (0/1 bits (rows, cols, bits)) above it. The decoder keeps the counts as it
  goes instead."""
  rows, cols, _ = current.shape
  per_row = current.sum(axis=1, dtype=np.int64)
  ones = np.cumsum(per_row, axis=0) - per_row
  return adaptive_bins(ones, (np.arange(rows, dtype=np.int64) * cols)[:, np.newaxis])


def stage_inputs(grid: np.ndarray, stages: int, groups: int
                 ) -> Tuple[List[np.ndarray], np.ndarray]:
  """All inputs of the last stage of `grid` (s + 1, rows, cols, bits), what the encoder,
  which has every bit, computes at once: per pass, the context (rows * cols,
  earlier_size + above_size + group_size), and the adaptive inputs (rows * cols, bits)
  that all passes share."""
  _, rows, cols, _ = grid.shape
  shared = np.concatenate([earlier_inputs(grid[:-1], stages),
                           above_inputs(grid[-1]).reshape(rows * cols, -1)], axis=-1)
  contexts = [np.concatenate([shared, group_inputs(grid[-1], group, groups)
                              .reshape(rows * cols, -1)], axis=-1)
              for group in range(groups)]
  adaptive = np.repeat(adaptive_inputs(grid[-1]), cols, axis=0)
  return contexts, adaptive
