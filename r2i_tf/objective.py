"""The Keras training loop the progressive coders share: minimise one objective.

R2I (Eq. 1 / 2), the inpainting network alone (Eq. 3) and IR2I (Eq. 4) each define
`_objective`, which returns the loss and updates their metrics; `fit` and `evaluate`
then work unchanged, labels (if the dataset has any) ignored.
"""
from __future__ import annotations

import tensorflow as tf

from compression_eval.training import replica_share


class ObjectiveModel(tf.keras.Model):
  """A model trained by minimising `_objective(inputs, training)`."""

  def _objective(self, inputs: tf.Tensor, training: bool) -> tf.Tensor:
    raise NotImplementedError

  def train_step(self, data):
    inputs = data[0] if isinstance(data, tuple) else data
    with tf.GradientTape() as tape:
      share = replica_share(self._objective(inputs, training=True))
    self.optimizer.minimize(share, self.trainable_variables, tape=tape)
    return {metric.name: metric.result() for metric in self.metrics}

  def test_step(self, data):
    self._objective(data[0] if isinstance(data, tuple) else data, training=False)
    return {metric.name: metric.result() for metric in self.metrics}
