"""Table I's measurement: top-1 / top-5 of a model's classes, and its rate, on a labelled set.

DeepSIC's codec classifies from the rounded code (post-semantic) or from the float
features at the encoder (pre-semantic); range coding is lossless, so batches through
`DeepSIC.rate_and_logits` give exactly the files' classes, thousands of times faster
than one file per image. The rate is the entropy model's (what the range coder spends,
up to a few bytes per file; Kodak files measure the real one) plus the pre-semantic
label's reserved bits. The reference classifier sees uncompressed images.
"""
from __future__ import annotations

from typing import Dict, Union

import tensorflow as tf

from deepsic_tf.models import DeepSIC
from deepsic_tf.reference import ReferenceClassifier

CLASSIFY_SIZE = 224  # Table I's center crops


def table_one_batches(dataset: str) -> tf.data.Dataset:
  """A dataset spec's validation images as Table I classifies them: 224x224 center crops,
  float in [0, 1], decoded once (cached) for every model measured on them."""
  # Imported here: the datasets load only when a table is measured.
  from compression_eval.datasets import (  # pylint: disable=import-outside-toplevel
      classification_dataset, classification_pipeline)
  val, _ = classification_dataset(dataset, "val")
  batches = classification_pipeline(val, patch_size=CLASSIFY_SIZE, batch_size=32,
                                    training=False, dtype=tf.uint8).cache()
  return batches.map(lambda images, labels: (tf.cast(images, tf.float32) / 255.0, labels))


def accuracy(model: Union[DeepSIC, ReferenceClassifier], batches: tf.data.Dataset
             ) -> Dict[str, float]:
  """{"top1", "top5", "bpp", "images"} over (float images in [0, 1], label) batches.

  `bpp` is None for the reference classifier, which codes nothing.
  """
  coded = isinstance(model, DeepSIC)
  top5 = min(5, model.config.num_classes)

  @tf.function
  def step(images: tf.Tensor, labels: tf.Tensor):
    if coded:
      bits, logits = model.rate_and_logits(images)
    else:
      bits, logits = tf.zeros(tf.shape(images)[:1]), model(images, training=False)
    labels = tf.cast(labels, tf.int32)
    hits1 = tf.math.in_top_k(labels, logits, 1)
    hits5 = tf.math.in_top_k(labels, logits, top5)
    pixels = tf.cast(tf.shape(images)[1] * tf.shape(images)[2], tf.float32)
    return (tf.reduce_sum(tf.cast(hits1, tf.float64)), tf.reduce_sum(tf.cast(hits5, tf.float64)),
            tf.reduce_sum(tf.cast(bits, tf.float64) / tf.cast(pixels, tf.float64)))

  count, correct1, correct5, bpp_sum = 0, 0.0, 0.0, 0.0
  for images, labels in batches:
    hits1, hits5, bpp = step(images, labels)
    count += int(images.shape[0])
    correct1, correct5, bpp_sum = correct1 + float(hits1), correct5 + float(hits5), bpp_sum + float(bpp)
  if count == 0:
    raise ValueError("no images to classify")
  label_bpp = model.config.label_bits / float(images.shape[1] * images.shape[2]) if coded else 0.0
  return {"top1": correct1 / count, "top5": correct5 / count,
          "bpp": bpp_sum / count + label_bpp if coded else None, "images": count}
