"""Range coding of a stage's bits with the learned bit model (`r2i_tf.bit_model`).

The same range coder and CDF table as the adaptive model (`r2i_tf.entropy`); only the
CDF index of each bit differs: the integer network's, from the block's context
(`r2i_tf.bit_contexts`). Each stage is its own stream, coded after the stages before
it, so a file cut after any stage still decodes. Encoder and decoder compute the
indexes with the same function, one row of blocks at a time from the rows above
(`_row_indexes`; the part of the network that sees the earlier stages alone in bands of
up to BAND_BLOCKS blocks), so they agree exactly and their memory does not grow with the
image;
the encoder, which has every bit, then codes the whole stage in one call, the decoder
decodes a row per call. An image more than THIN times taller than wide (in blocks) is
coded transposed, a column of blocks per call, so that no image needs more calls than
about sqrt(THIN * blocks): a 65,535 x 1 file would otherwise take 2,048 calls a stage
before its damage shows. The decoder then codes the bits it decoded again and refuses
the stage unless that gives the payload back, byte for byte: the range decoder reads a
damaged or foreign payload as some bits without complaint (past its end, as zeros), and
the networks would then run on them (an IR2I file declaring 65,535 x 1 pixels: 2,048
inpainting steps, seconds).
"""
from __future__ import annotations

from typing import Iterator

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


def _earlier_parts(model: BitModel, earlier: np.ndarray) -> Iterator[np.ndarray]:
  """Row by row, the first layer's sums (cols, hidden) over the earlier-stage inputs of
  a stage whose earlier stages are `earlier` (s, rows, cols, bits), computed in bands."""
  rows, cols = earlier.shape[1:3]
  band = max(1, BAND_BLOCKS // cols)
  for top in range(0, rows, band):
    bottom = min(top + band, rows)
    inputs = bit_contexts.earlier_rows(earlier, top, bottom, model.stages)
    yield from model.earlier_part(inputs).reshape(bottom - top, cols, -1)


def _row_indexes(model: BitModel, first: np.ndarray, current: np.ndarray, row: int,
                 ones: np.ndarray) -> np.ndarray:
  """CDF indexes (cols, bits) of a row of the current stage (0/1 bits (rows, cols, bits),
  of which the rows above `row` are used), given the row's `_earlier_parts` and the count
  of ones per bit position in the rows above."""
  first = first + model.above_part(bit_contexts.above_row(current, row))
  return model.bins(first, bit_contexts.adaptive_bins(ones, row * current.shape[1]))


def encode_stage(model: BitModel, grid: np.ndarray) -> bytes:
  """The last stage of `grid` (0/1 bits (s + 1, rows, cols, bits), every stage up to it)
  to bytes."""
  grid = _transposed(grid)
  current = grid[-1]
  ones = np.cumsum(current.sum(axis=1, dtype=np.int64), axis=0)  # through each row
  indexes = np.stack([_row_indexes(model, first, current, row,
                                   ones[row - 1] if row else np.zeros_like(ones[0]))
                      for row, first in enumerate(_earlier_parts(model, grid[:-1]))])
  return _range_encode(indexes, current)


def _range_encode(indexes: np.ndarray, bits: np.ndarray) -> bytes:
  """0/1 bits under their CDF indexes (the same shape) to the range coder's bytes."""
  handle = tfc.create_range_encoder([], LOOKUP)
  handle = tfc.entropy_encode_index(handle, tf.constant(indexes.ravel()),
                                    tf.constant(bits.astype(np.int32).ravel()))
  return tfc.entropy_encode_finalize(handle).numpy()


def decode_stage(model: BitModel, payload: bytes, earlier: np.ndarray, rows: int,
                 cols: int) -> np.ndarray:
  """Inverse of `encode_stage`: a stage's bits (rows, cols, bits) uint8, given the
  decoded stages before it (s, rows, cols, bits)."""
  if rows > THIN * cols:
    return decode_stage(model, payload, _transposed(earlier), cols, rows).transpose(1, 0, 2)
  current = np.zeros((rows, cols, model.bits), np.uint8)
  indexes = np.zeros((rows, cols, model.bits), np.int32)
  ones = np.zeros(model.bits, np.int64)  # per bit position, in the rows decoded so far
  handle = tfc.create_range_decoder(tf.constant(payload), LOOKUP)
  for row, first in enumerate(_earlier_parts(model, earlier)):
    indexes[row] = _row_indexes(model, first, current, row, ones)
    handle, values = tfc.entropy_decode_index(handle, tf.constant(indexes[row].ravel()),
                                              [cols * model.bits], tf.int32)
    current[row] = values.numpy().reshape(cols, model.bits)
    ones += current[row].sum(axis=0, dtype=np.int64)
  if (not bool(tfc.entropy_decode_finalize(handle).numpy()) or current.max(initial=0) > 1
      or _range_encode(indexes, current) != payload):
    raise UserError("corrupt R2I file (a stage coded with the learned model does not decode)")
  return current
