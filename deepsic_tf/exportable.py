"""What the codec and the serving SavedModels share: the transforms and edge padding."""
from __future__ import annotations

import dataclasses
from typing import List

import tensorflow as tf

from deepsic_tf.models import DeepSIC


@dataclasses.dataclass(frozen=True)
class Transforms:
  """f, g and h of a trained model, held outside tf.Module's automatic tracking.

  A module that tracks Keras models makes `tf.saved_model.save` trace every Keras layer
  for Keras' own metadata (about three times slower). Exports keep these in a plain
  object and track `weights` as a list of variables instead: the SavedModel then holds
  the weights and the exported signatures only.
  """
  analysis: tf.keras.Model
  synthesis: tf.keras.Model
  head: tf.keras.Model

  @classmethod
  def of(cls, model: DeepSIC) -> "Transforms":
    return cls(model.analysis, model.synthesis, model.head)

  @property
  def weights(self) -> List[tf.Variable]:
    return list(self.analysis.variables + self.synthesis.variables + self.head.variables)


def pad_to_multiple(images: tf.Tensor, stride: int, row_axis: int) -> tf.Tensor:
  """Pads rows and columns (axes `row_axis`, `row_axis` + 1) up to multiples of `stride`.

  Edge replication (repeating the last row and column) works for any size down to 1x1,
  where reflection cannot.
  """
  shape = tf.shape(images)
  rows = tf.minimum(tf.range((shape[row_axis] + stride - 1) // stride * stride),
                    shape[row_axis] - 1)
  columns = tf.minimum(tf.range((shape[row_axis + 1] + stride - 1) // stride * stride),
                       shape[row_axis + 1] - 1)
  return tf.gather(tf.gather(images, rows, axis=row_axis), columns, axis=row_axis + 1)
