"""Edge padding in TensorFlow ops, shared by every export that takes whole images.

Both codecs code images whose sides are multiples of a stride (DeepSIC: its total
subsampling; R2I: the 32-pixel block), and both pad the same way, inside the graph, so
that a server needs nothing but the exported SavedModel.
"""
from __future__ import annotations

import tensorflow as tf


def pad_to_multiple(images: tf.Tensor, stride: int, row_axis: int) -> tf.Tensor:
  """Pads rows and columns (axes `row_axis`, `row_axis` + 1) up to multiples of `stride`.

  Edge replication (repeating the last row and column) works for any size down to 1x1,
  where reflection cannot, and costs fewer bits than a black border.
  """
  shape = tf.shape(images)
  rows = tf.minimum(tf.range((shape[row_axis] + stride - 1) // stride * stride),
                    shape[row_axis] - 1)
  columns = tf.minimum(tf.range((shape[row_axis + 1] + stride - 1) // stride * stride),
                       shape[row_axis + 1] - 1)
  return tf.gather(tf.gather(images, rows, axis=row_axis), columns, axis=row_axis + 1)
