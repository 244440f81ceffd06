"""What the codec and the serving SavedModels share: the transforms, held untracked."""
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

