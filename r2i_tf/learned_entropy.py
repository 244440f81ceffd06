"""Range coding of a stage's bits with the learned bit model (`r2i_tf.bit_model`).

The same range coder and CDF table as the adaptive model (`r2i_tf.entropy`); only the
CDF index of each bit differs: the integer network's, from the block's context
(`r2i_tf.bit_contexts`). Each stage is its own stream, coded after the stages before it,
so a file cut after any stage still decodes. The decoder computes the indexes one row of
blocks at a time from the rows above, and within a row one pass (a slice of the channels,
`bit_contexts.group_new_inputs`) at a time (`_pass_indexes`; the part of the network that
sees the earlier stages alone in bands of up to BAND_BLOCKS blocks, so that its memory
does not grow with the image), decoding a pass of a row per call; the encoder, which has
every bit, computes a band of rows at once with the same functions and codes the whole
stage in one call. The sums are integers, exact in any order, so both get the same
indexes. An image more than THIN times taller than wide (in blocks) is coded
transposed, a column of blocks per call, so that no image needs more calls than about
sqrt(THIN * blocks): a 65,535 x 1 file would otherwise take 2,048
calls a stage before its damage shows. The decoder then codes the bits it decoded again
and refuses the stage unless that gives the payload back, byte for byte: the range
decoder reads a damaged or foreign payload as some bits without complaint (past its end,
as zeros), and the networks would then run on them (an IR2I file declaring 65,535 x 1
pixels: 2,048 inpainting steps, seconds).
"""
from __future__ import annotations

from typing import Iterator, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tensorflow_compression as tfc

from compression_eval.errors import UserError
from r2i_tf import bit_contexts
from r2i_tf.bit_model import BitModel
from r2i_tf.entropy import LOOKUP

THIN = 8
BAND_BLOCKS = 4096


def _transposed(grid: np.ndarray) -> np.ndarray:
  """Bits (stages, rows, cols, bits) with rows and columns exchanged if the image is thin."""
  rows, cols = grid.shape[1:3]
  return grid.transpose(0, 2, 1, 3) if rows > THIN * cols else grid


def _earlier_bands(model: BitModel, earlier: np.ndarray
                   ) -> Iterator[Tuple[int, int, np.ndarray]]:
  """Band by band of rows, (top, bottom, the first layer's sums (bottom - top, cols,
  hidden) over the earlier-stage inputs) of a stage whose earlier stages are `earlier`
  (s, rows, cols, bits)."""
  rows, cols = earlier.shape[1:3]
  band = max(1, BAND_BLOCKS // cols)
  for top in range(0, rows, band):
    bottom = min(top + band, rows)
    inputs = bit_contexts.earlier_rows(earlier, top, bottom, model.stages)
    first = model.earlier_part(inputs, stage=earlier.shape[0])
    yield top, bottom, first.reshape(bottom - top, cols, -1)


def _row_context(model: BitModel, first: np.ndarray, current: np.ndarray, row: int,
                 ones: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
  """The first layer's sums (cols, hidden) of a row of the current stage (0/1 bits
  (rows, cols, bits), of which the rows above `row` are used) before its passes' inputs,
  given the row's `_earlier_bands` sums, and the row's adaptive inputs (1, bits) from
  the count of ones per bit position in the rows above."""
  first = first + model.above_part(bit_contexts.above_row(current, row))
  return first, bit_contexts.adaptive_bins(ones, row * current.shape[1])[np.newaxis]


def _pass_indexes(model: BitModel, first: np.ndarray, adaptive: np.ndarray,
                  row_bits: np.ndarray, group: int) -> Tuple[np.ndarray, np.ndarray]:
  """CDF indexes (..., cols, bits of the pass) of pass `group` over rows and the first
  layer's sums they came from, given the sums of the pass before (for the first pass,
  the rows' `_row_context`), the rows' adaptive inputs (..., 1, bits) and their
  current-stage bits (..., cols, bits), of which earlier passes' are used."""
  first = first + model.group_change(row_bits, group)
  return model.bins(first, adaptive, group), first


def encode_stage(model: BitModel, grid: np.ndarray) -> bytes:
  """The last stage of `grid` (0/1 bits (s + 1, rows, cols, bits), every stage up to it)
  to bytes: row by row, in each row pass by pass. The encoder has every bit, so it
  computes a band of rows at once, in products as large as the decoder's row by row
  are small; the sums are integers, exact in any order, so the indexes are the
  decoder's (`test_r2i_bit_model`)."""
  grid = _transposed(grid)
  current = grid[-1]
  adaptive = bit_contexts.adaptive_inputs(current)[:, np.newaxis]  # (rows, 1, bits)
  indexes, bits = [], []
  for top, bottom, first in _earlier_bands(model, grid[:-1]):
    above = max(top - 1, 0)
    first = first + model.above_part(
        bit_contexts.above_inputs(current[above:bottom])[top - above:])
    band = current[top:bottom]
    passes = []
    for group in range(model.groups):
      band_indexes, first = _pass_indexes(model, first, adaptive[top:bottom], band, group)
      passes.append(band_indexes)
    for row in range(bottom - top):
      for group, columns in enumerate(model.pass_bits):
        indexes.append(passes[group][row])
        bits.append(band[row][:, columns])
  return _range_encode(indexes, bits)


def _range_encode(indexes: Sequence[np.ndarray], bits: Sequence[np.ndarray]) -> bytes:
  """0/1 bits under their CDF indexes (lists of arrays, pairwise of one shape, in the
  order of the stream) to the range coder's bytes."""
  handle = tfc.create_range_encoder([], LOOKUP)
  handle = tfc.entropy_encode_index(
      handle, tf.constant(np.concatenate([i.ravel() for i in indexes])),
      tf.constant(np.concatenate([b.ravel() for b in bits]).astype(np.int32)))
  return tfc.entropy_encode_finalize(handle).numpy()


def decode_stage(model: BitModel, payload: bytes, earlier: np.ndarray, rows: int,
                 cols: int) -> np.ndarray:
  """Inverse of `encode_stage`: a stage's bits (rows, cols, bits) uint8, given the
  decoded stages before it (s, rows, cols, bits)."""
  if rows > THIN * cols:
    return decode_stage(model, payload, _transposed(earlier), cols, rows).transpose(1, 0, 2)
  current = np.zeros((rows, cols, model.bits), np.uint8)
  indexes, bits = [], []
  ones = np.zeros(model.bits, np.int64)  # per bit position, in the rows decoded so far
  handle = tfc.create_range_decoder(tf.constant(payload), LOOKUP)
  # The shapes as tensors made once: a list converted on each call sends the op to
  # TensorFlow's slow path, a third of the decoder's calls' time.
  shapes = [tf.constant([cols * len(columns)]) for columns in model.pass_bits]
  for top, bottom, band in _earlier_bands(model, earlier):
    for row in range(top, bottom):
      first, adaptive = _row_context(model, band[row - top], current, row, ones)
      for group, columns in enumerate(model.pass_bits):
        row_indexes, first = _pass_indexes(model, first, adaptive, current[row], group)
        indexes.append(row_indexes)
        handle, values = tfc.entropy_decode_index(handle, row_indexes.ravel(), shapes[group],
                                                  tf.int32)
        current[row][:, columns] = values.numpy().reshape(cols, len(columns))
        bits.append(current[row][:, columns])
      ones += current[row].sum(axis=0, dtype=np.int64)
  if (not bool(tfc.entropy_decode_finalize(handle).numpy()) or current.max(initial=0) > 1
      or _range_encode(indexes, bits) != payload):
    raise UserError("corrupt R2I file, or one written with another bit model than this "
                    "codec's (a stage coded with the learned model does not decode)")
  return current
