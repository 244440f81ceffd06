"""Whole images to 32x32 blocks and back, vectorised (no per-block Python loop).

The coder works on 32x32 patches, so an image of any size is padded to a multiple of
32 (by repeating its edge pixels, which costs fewer bits than a black border), cut into
blocks in raster order, and the decoded blocks are put back and cropped.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

from r2i_tf.config import PATCH_SIZE


def grid_shape(height: int, width: int) -> Tuple[int, int]:
  """Blocks per column and per row for an image of this size."""
  return -(-height // PATCH_SIZE), -(-width // PATCH_SIZE)


def to_blocks(image: np.ndarray) -> np.ndarray:
  """(H, W, 3) to (rows * cols, 32, 32, 3) in raster order, edge-padded."""
  rows, cols = grid_shape(*image.shape[:2])
  padded = np.pad(image, ((0, rows * PATCH_SIZE - image.shape[0]),
                          (0, cols * PATCH_SIZE - image.shape[1]), (0, 0)), mode="edge")
  blocks = padded.reshape(rows, PATCH_SIZE, cols, PATCH_SIZE, 3).transpose(0, 2, 1, 3, 4)
  return np.ascontiguousarray(blocks.reshape(rows * cols, PATCH_SIZE, PATCH_SIZE, 3))


def from_blocks(blocks: np.ndarray, height: int, width: int) -> np.ndarray:
  """Inverse of `to_blocks`: the blocks of one image back to (height, width, 3)."""
  rows, cols = grid_shape(height, width)
  image = blocks.reshape(rows, cols, PATCH_SIZE, PATCH_SIZE, 3).transpose(0, 2, 1, 3, 4)
  return image.reshape(rows * PATCH_SIZE, cols * PATCH_SIZE, 3)[:height, :width]
