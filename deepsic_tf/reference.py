"""The uncompressed reference classifier of Table I: DeepSIC's f and h, nothing between.

The paper's Table I sets DeepSIC's accuracy at each rate beside classifiers that see
the uncompressed images (VGG-16, DenseNet). Ours is the same head family: DeepSIC's
feature extractor and semantic head, trained on the same data with the cross-entropy
alone, so the gap to it is what the code (rate, distortion and quantisation) costs.
"""
from __future__ import annotations

import tensorflow as tf

from deepsic_tf.config import DeepSICConfig
from deepsic_tf.models import feature_extractor, semantic_head


class ReferenceClassifier(tf.keras.Model):
  """h(f(x)) on images in [0, 1]; returns class logits."""

  def __init__(self, config: DeepSICConfig, **kwargs):
    super().__init__(**kwargs)
    if config.architecture != "reference":
      raise ValueError("ReferenceClassifier takes a config with architecture 'reference'")
    self.config = config
    self.analysis = feature_extractor(config)
    self.head = semantic_head(config)

  def call(self, images: tf.Tensor, training: bool | None = None) -> tf.Tensor:
    return self.head(self.analysis(images, training=training), training=training)


def compile_reference(model: ReferenceClassifier, optimizer: tf.keras.optimizers.Optimizer
                      ) -> None:
  """Cross-entropy, with the top-1 / top-5 metrics DeepSIC reports under the same names."""
  top5 = min(5, model.config.num_classes)
  model.compile(optimizer=optimizer,
                loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=[tf.keras.metrics.SparseTopKCategoricalAccuracy(1, name="top1"),
                         tf.keras.metrics.SparseTopKCategoricalAccuracy(top5, name="top5")])
