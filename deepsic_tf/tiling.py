"""Running DeepSIC's transforms tile by tile, so memory stays bounded on huge images.

f and g are fully convolutional: an output pixel depends only on the inputs within its
receptive field. A tile cut with a margin at least that wide, run alone and cropped back
to its core, gives the outputs the whole image gives. Tiles start at multiples of the
total stride, so every strided layer sees the same sampling grid and the same 'same'
padding as in the untiled image (whose sides are already padded to a multiple of the
stride). Exactly so up to float rounding: TensorFlow's kernels may sum in another order
for another input shape, which moves a feature by an ulp or two (1e-7). A code changes
only if a feature lies that close to the edge of a quantisation step; the tests find the
files of tiled and whole coding byte-identical.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Callable

import tensorflow as tf

from deepsic_tf.config import KERNEL_SIZES, DeepSICConfig


@dataclasses.dataclass(frozen=True)
class Tiles:
  """Tile sides in pixels, multiples of the total stride, one per transform.

  g's working set per pixel is about ten times f's (its last stage interpolates all
  `filters` channels to full resolution), so its tiles are smaller: with the paper's
  widths each takes a few hundred MB. f's larger tiles keep the margins' extra work near
  5 % on a 2048x3072 image; a Kodak image (768x512) is one tile of each.
  """
  analysis: int = 2048
  synthesis: int = 1024

  def check(self, stride: int) -> None:
    for side in (self.analysis, self.synthesis):
      if side < stride or side % stride:
        raise ValueError(f"tiles must be positive multiples of the stride {stride}, not {side}")


def analysis_margin(config: DeepSICConfig) -> int:
  """Pixels of context each side of a tile: f's receptive radius, rounded up to the stride.

  A stage with kernel k at input spacing s (the product of the subsampling before it)
  reaches (k // 2) * s pixels, and its pooled skip and subsampling grid up to its own
  factor times s more; the sum bounds the radius.
  """
  radius, spacing = 0, 1
  for kernel, factor in zip(KERNEL_SIZES, config.subsampling):
    radius += (kernel // 2 + factor) * spacing
    spacing *= factor
  return -(-radius // spacing) * spacing


def synthesis_margin(config: DeepSICConfig) -> int:
  """Latents of context each side of a tile for g, bounded as for f.

  A stage with kernel k and upsampling u reads inputs within k // 2 + 1 of its own
  input grid (its transposed conv, and its bilinear path one more); in latents that is
  divided by the upsampling before it.
  """
  radius, spacing = 0.0, 1
  for kernel, factor in zip(reversed(KERNEL_SIZES), reversed(config.subsampling)):
    radius += (kernel // 2 + 1) / spacing
    spacing *= factor
  return math.ceil(radius)


def apply_in_tiles(transform: Callable[[tf.Tensor], tf.Tensor], inputs: tf.Tensor, tile: int,
                   margin: int, scale: float, dtype: tf.DType, channels: int) -> tf.Tensor:
  """`transform(inputs)` of an (N, H, W, C) batch, computed on tiles of tile x tile inputs.

  Args:
    transform: fully convolutional; maps (N, h, w, C) inputs to
      (N, h * scale, w * scale, channels) outputs of `dtype`.
    inputs: H and W multiples of the transform's stride (1 / scale for f).
    tile: tile side in input units, a multiple of that stride.
    margin: context each side of a tile in input units, a multiple of that stride and at
      least the transform's receptive radius.
    scale: output units per input unit (1 / stride for f, the stride for g).
  """
  shape = tf.shape(inputs)
  height, width = shape[1], shape[2]

  def span(index: tf.Tensor, size: tf.Tensor):
    """The core [begin, end) of a tile and the window [start, stop) read around it."""
    begin = index * tile
    end = tf.minimum(begin + tile, size)
    return begin, end, tf.maximum(begin - margin, 0), tf.minimum(end + margin, size)

  def scaled(value: tf.Tensor) -> tf.Tensor:
    return tf.cast(tf.round(tf.cast(value, tf.float64) * scale), tf.int32)

  def concat_along(axis: int, count: tf.Tensor, piece: Callable[[tf.Tensor], tf.Tensor]):
    """The `count` pieces concatenated along `axis` (1: rows, 2: columns), in a while loop."""
    order = [axis] + [i for i in range(4) if i != axis]  # TensorArray concatenates axis 0
    inverse = [order.index(i) for i in range(4)]

    def body(index: tf.Tensor, pieces: tf.TensorArray):
      return index + 1, pieces.write(index, tf.transpose(piece(index), order))

    _, pieces = tf.while_loop(lambda index, _: index < count, body,
                              (tf.constant(0), tf.TensorArray(dtype, size=count,
                                                              infer_shape=False)))
    return tf.transpose(pieces.concat(), inverse)

  def strip(row: tf.Tensor) -> tf.Tensor:
    top, bottom, first_row, last_row = span(row, height)

    def tile_output(col: tf.Tensor) -> tf.Tensor:
      left, right, first_col, last_col = span(col, width)
      window = transform(inputs[:, first_row:last_row, first_col:last_col])
      return window[:, scaled(top - first_row):scaled(bottom - first_row),
                    scaled(left - first_col):scaled(right - first_col)]

    return concat_along(2, (width + tile - 1) // tile, tile_output)

  outputs = concat_along(1, (height + tile - 1) // tile, strip)
  outputs.set_shape([inputs.shape[0], None, None, channels])
  return outputs
