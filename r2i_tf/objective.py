"""The Keras training loop the progressive coders share: minimise one objective.

R2I (Eq. 1 / 2), the inpainting network alone (Eq. 3) and IR2I (Eq. 4) each define
`_objective`, which returns the loss and updates their metrics; `fit` and `evaluate`
then work unchanged, labels (if the dataset has any) ignored. A training step may run as
shards of its batch side by side (`compression_eval.cpu_shards`): every objective is a
batch mean, so the step is the same.
"""
from __future__ import annotations

import tensorflow as tf

from compression_eval.cpu_shards import sharded_mean
from compression_eval.training import replica_share


class ObjectiveModel(tf.keras.Model):
  """A model trained by minimising `_objective(inputs, training)`.

  Attributes:
    shards: the training step runs as this many equal shards of its batch (1: whole).
  """

  shards: int = 1

  def _objective(self, inputs: tf.Tensor, training: bool) -> tf.Tensor:
    raise NotImplementedError

  def train_step(self, data):
    inputs = data[0] if isinstance(data, tuple) else data
    with tf.GradientTape() as tape:
      loss = sharded_mean(lambda part: self._objective(part, training=True), inputs,
                          self.shards)
      share = replica_share(loss)
    self.optimizer.minimize(share, self.trainable_variables, tape=tape)
    return {metric.name: metric.result() for metric in self.metrics}

  def test_step(self, data):
    self._objective(data[0] if isinstance(data, tuple) else data, training=False)
    return {metric.name: metric.result() for metric in self.metrics}
