"""Lossless entropy coding of a stage's bits: tensorflow-compression's range coder with an
adaptive probability model (the "future work" of paper 2's conclusion).

Each of the 128 bit positions of a block's code (2 x 2 x 32) is a context. Blocks go
in raster order, one row of blocks at a time; a bit's probability of being one is the
Krichevsky-Trofimov estimate (ones + 1/2) / (seen + 1) over the same context in the
rows above, so the decoder rebuilds every probability from what it has decoded and the
file carries no model. Probabilities within a row do not depend on each other, so the
coder works a whole row per call (no per-bit Python loop), and each stage is its own
stream: a file cut after stage k still decodes.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_compression as tfc

from compression_eval.binary_coding import BINS, LOOKUP
from compression_eval.errors import UserError

def _bins(ones: np.ndarray, seen) -> np.ndarray:
  """CDF index per context from its count of ones among `seen` bits (broadcasting)."""
  probability = (ones + 0.5) / (seen + 1.0)
  return np.clip((probability * BINS).astype(np.int32), 0, BINS - 1)


def _row_indexes(bits: np.ndarray) -> np.ndarray:
  """For bits (rows, cols, contexts): each bit's CDF index, from the rows above it."""
  rows, cols, _ = bits.shape
  ones_above = np.cumsum(bits.sum(axis=1), axis=0) - bits.sum(axis=1)  # (rows, contexts)
  indexes = _bins(ones_above, (np.arange(rows) * cols)[:, np.newaxis])
  return np.broadcast_to(indexes[:, np.newaxis, :], bits.shape)


def ideal_bits(bits: np.ndarray, cols: int) -> float:
  """The stage's rate under this model: the sum of -log2 P(bit) for the CDFs the coder uses.

  A perfect arithmetic coder would spend exactly this; the range coder's files are
  checked against it (benchmarks/rate_accounting.py).
  """
  grid = bits.reshape(-1, cols, int(np.prod(bits.shape[1:]))).astype(np.int32)
  one = (_row_indexes(grid) + 0.5) / BINS
  return float(-np.sum(np.where(grid == 1, np.log2(one), np.log2(1.0 - one))))


def encode_stage(bits: np.ndarray, cols: int) -> bytes:
  """A stage's 0/1 bits (blocks, 2, 2, C) in raster order, blocks `cols` to a row, to bytes."""
  grid = bits.reshape(-1, cols, int(np.prod(bits.shape[1:]))).astype(np.int32)
  handle = tfc.create_range_encoder([], LOOKUP)
  handle = tfc.entropy_encode_index(handle, tf.constant(_row_indexes(grid).ravel()),
                                    tf.constant(grid.ravel()))
  return tfc.entropy_encode_finalize(handle).numpy()


def decode_stage(payload: bytes, shape: tuple, cols: int) -> np.ndarray:
  """Inverse of `encode_stage`: bits of the given (blocks, 2, 2, C) shape."""
  contexts = int(np.prod(shape[1:]))
  rows = shape[0] // cols
  handle = tfc.create_range_decoder(tf.constant(payload), LOOKUP)
  ones = np.zeros(contexts, np.int64)
  decoded = []
  for row in range(rows):
    indexes = np.broadcast_to(_bins(ones, row * cols), (cols, contexts)).ravel()
    handle, values = tfc.entropy_decode_index(handle, tf.constant(indexes), [cols * contexts],
                                              tf.int32)
    values = values.numpy().reshape(cols, contexts)
    ones += values.sum(axis=0)
    decoded.append(values)
  bits = np.stack(decoded).reshape(shape)
  # The range decoder reads damaged bytes as some bits without complaint; coding them
  # again gives the payload back only if it was theirs, so a damaged stage is refused
  # before the networks run on it (an IR2I file declaring 1 x 16,385 pixels: seconds).
  if (not bool(tfc.entropy_decode_finalize(handle).numpy()) or bits.max(initial=0) > 1
      or encode_stage(bits, cols) != payload):
    raise UserError("corrupt R2I file (an entropy-coded stage does not decode)")
  return bits.astype(np.uint8)
