"""The IR2I first code: blocks coded in an order where each one's context is decoded.

A block is inpainted from the first-code reconstructions (stages 1-2) of the blocks
above, to the left and above-left of it, so those must be decoded first, at encoding
and at decoding time alike. The raster scan does one block per network call: 384 calls
for a 768x512 image. All blocks on one anti-diagonal (row + column constant) depend only
on earlier anti-diagonals, so the wavefront scan does each anti-diagonal as one batch:
39 calls for the same image. Both scans compute every block from the same inputs, so
they write the same bits and decode the same pixels (the tests check this).

The canvas holds the first-code reconstruction as the uint8 pixels a decoder shows, with
a 32-pixel border above and to the left: the missing context of blocks on the image's
top row or left column, which the network sees as zero on its [-1, 1] scale.
"""
from __future__ import annotations

from typing import Callable, List, Optional, Tuple

import numpy as np

from r2i_tf.config import PATCH_SIZE
from r2i_tf.inpainting import BLOCK, CONTEXT

SCANS = ("wavefront", "raster")


def scan_groups(rows: int, cols: int, scan: str) -> List[np.ndarray]:
  """Raster indexes of the blocks coded together, in coding order."""
  if scan == "raster":
    return [np.array([index]) for index in range(rows * cols)]
  if scan == "wavefront":
    row, col = np.divmod(np.arange(rows * cols), cols)
    return [np.flatnonzero(row + col == diagonal) for diagonal in range(rows + cols - 1)]
  raise ValueError(f"scan must be one of {', '.join(SCANS)}, not {scan!r}")


def _contexts(canvas: np.ndarray, group: np.ndarray, cols: int) -> np.ndarray:
  """The masked 64x64 contexts (N, 64, 64, 3) on [-1, 1] of the blocks in `group`."""
  row, col = np.divmod(group, cols)
  offsets = np.arange(CONTEXT)
  ys = (row * PATCH_SIZE)[:, np.newaxis, np.newaxis] + offsets[np.newaxis, :, np.newaxis]
  xs = (col * PATCH_SIZE)[:, np.newaxis, np.newaxis] + offsets[np.newaxis, np.newaxis, :]
  contexts = canvas[ys, xs].astype(np.float32) * (2.0 / 255.0) - 1.0
  contexts[(ys < BLOCK) | (xs < BLOCK)] = 0.0  # outside the image
  contexts[:, CONTEXT - BLOCK:, CONTEXT - BLOCK:] = 0.0  # the block itself
  return contexts


def _paint(canvas: np.ndarray, group: np.ndarray, cols: int, blocks: np.ndarray) -> None:
  """Writes uint8 first-code blocks into the canvas at their places."""
  for index, block in zip(group, blocks):
    row, col = divmod(int(index), cols)
    canvas[BLOCK + row * PATCH_SIZE:BLOCK + (row + 1) * PATCH_SIZE,
           BLOCK + col * PATCH_SIZE:BLOCK + (col + 1) * PATCH_SIZE] = block


# Given a group's inpainting (N, 32, 32, 3) and indexes, returns its first-code
# reconstruction (N, 32, 32, 3) uint8; the encoder also codes the blocks on the way.
FirstCode = Callable[[np.ndarray, np.ndarray], np.ndarray]


def run_scan(rows: int, cols: int, scan: str, inpaint: Callable[[np.ndarray], np.ndarray],
             first_code: FirstCode) -> np.ndarray:
  """Inpaints every block in scan order; returns the inpaintings (rows * cols, 32, 32, 3).

  Args:
    inpaint: masked contexts (N, 64, 64, 3) to inpaintings, both on [-1, 1].
    first_code: see `FirstCode`.
  """
  canvas = np.zeros((BLOCK + rows * PATCH_SIZE, BLOCK + cols * PATCH_SIZE, 3), np.uint8)
  inpaintings = np.zeros((rows * cols, PATCH_SIZE, PATCH_SIZE, 3), np.float32)
  for group in scan_groups(rows, cols, scan):
    inpaintings[group] = inpaint(_contexts(canvas, group, cols))
    _paint(canvas, group, cols, first_code(inpaintings[group], group))
  return inpaintings


def encode_blocks(blocks: np.ndarray, rows: int, cols: int, scan: str,
                  inpaint: Callable[[np.ndarray], np.ndarray],
                  encode: Callable[[np.ndarray, np.ndarray], np.ndarray],
                  decode_first: Callable[[np.ndarray, np.ndarray], np.ndarray]
                  ) -> Tuple[np.ndarray, np.ndarray]:
  """Every stage's bits (stages, N, 2, 2, C) of an image's blocks, and their inpaintings.

  Args:
    encode: blocks and inpaintings to every stage's bits.
    decode_first: bits (of the first code's stages, or more: the rest are ignored) and
      inpaintings to the uint8 first-code reconstruction.
  """
  bits: Optional[np.ndarray] = None

  def first_code(inpainting: np.ndarray, group: np.ndarray) -> np.ndarray:
    nonlocal bits
    group_bits = encode(blocks[group], inpainting)
    if bits is None:
      bits = np.zeros((group_bits.shape[0], len(blocks)) + group_bits.shape[2:], np.uint8)
    bits[:, group] = group_bits
    return decode_first(group_bits, inpainting)

  inpaintings = run_scan(rows, cols, scan, inpaint, first_code)
  return bits, inpaintings


def decode_inpaintings(bits: np.ndarray, rows: int, cols: int, scan: str,
                       inpaint: Callable[[np.ndarray], np.ndarray],
                       decode_first: Callable[[np.ndarray, np.ndarray], np.ndarray]
                       ) -> np.ndarray:
  """Every block's inpainting from the first code's bits (first stages, N, 2, 2, C)."""
  return run_scan(rows, cols, scan, inpaint,
                  lambda inpainting, group: decode_first(bits[:, group], inpainting))
