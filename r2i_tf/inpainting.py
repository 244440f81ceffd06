"""Partial-context inpainting networks (paper 2, section 2.2).

The input is a 64x64 context whose bottom-right 32x32 quarter (the block to code) is
zeroed; the output is the prediction of that quarter. The paper's network stacks 8
multi-scale convolutional layers, each 24 3x3 filters at each dilation 1, 2, 4 and 8,
concatenated, so that a few layers see the whole context at full resolution; one plain
convolution predicts the pixels. The vanilla baseline has the same parameter count in
32 plain 3x3 layers (dilation 1).
"""
from __future__ import annotations

import math
from typing import Sequence

import tensorflow as tf

CONTEXT = 64
BLOCK = 32
DILATIONS = (1, 2, 4, 8)
_INIT = "he_normal"


class MultiScaleConv(tf.keras.layers.Layer):
  """`filters` 3x3 filters at each dilation, concatenated, then ReLU."""

  def __init__(self, filters: int, dilations: Sequence[int] = DILATIONS, **kwargs):
    super().__init__(**kwargs)
    self.filters = filters
    self.dilations = tuple(dilations)
    self.branches = [tf.keras.layers.Conv2D(filters, 3, padding="same", dilation_rate=d,
                                            kernel_initializer=_INIT, name=f"dilation_{d}")
                     for d in self.dilations]

  def call(self, inputs: tf.Tensor) -> tf.Tensor:
    return tf.nn.relu(tf.concat([branch(inputs) for branch in self.branches], axis=-1))


def _predict_block(features: tf.Tensor) -> tf.Tensor:
  """The plain prediction convolution, cropped to the bottom-right 32x32 quarter."""
  pixels = tf.keras.layers.Conv2D(3, 3, padding="same", kernel_initializer=_INIT,
                                  name="predict")(features)
  return pixels[:, CONTEXT - BLOCK:, CONTEXT - BLOCK:, :]


def multiscale_inpainter(layers: int = 8, filters: int = 24) -> tf.keras.Model:
  """The paper's network: context (B, 64, 64, 3) -> block (B, 32, 32, 3)."""
  context = tf.keras.Input((CONTEXT, CONTEXT, 3), name="context")
  x = context
  for i in range(layers):
    x = MultiScaleConv(filters, name=f"multiscale_{i + 1}")(x)
  return tf.keras.Model(context, _predict_block(x), name="multiscale_inpainter")


def vanilla_width(target_parameters: int, layers: int = 32) -> int:
  """The width at which `layers` plain 3x3 layers (plus the prediction) come closest to
  `target_parameters`."""
  def parameters(width: int) -> int:
    first = 9 * 3 * width + width
    hidden = (layers - 1) * (9 * width * width + width)
    return first + hidden + 9 * width * 3 + 3
  guess = int(math.sqrt(target_parameters / (9 * (layers - 1))))
  return min(range(max(1, guess - 3), guess + 4),
             key=lambda width: abs(parameters(width) - target_parameters))


def vanilla_inpainter(target_parameters: int, layers: int = 32) -> tf.keras.Model:
  """The baseline: `layers` plain 3x3 ReLU layers, as many parameters as the target."""
  width = vanilla_width(target_parameters, layers)
  context = tf.keras.Input((CONTEXT, CONTEXT, 3), name="context")
  x = context
  for i in range(layers):
    x = tf.keras.layers.Conv2D(width, 3, padding="same", activation="relu",
                               kernel_initializer=_INIT, name=f"conv_{i + 1}")(x)
  return tf.keras.Model(context, _predict_block(x), name="vanilla_inpainter")


def mask_context(context: tf.Tensor) -> tf.Tensor:
  """Zeroes the bottom-right 32x32 quarter of (B, 64, 64, C) contexts: the block to predict."""
  rows = tf.range(CONTEXT)[:, tf.newaxis] >= CONTEXT - BLOCK
  cols = tf.range(CONTEXT)[tf.newaxis, :] >= CONTEXT - BLOCK
  keep = tf.cast(~(rows & cols), context.dtype)[tf.newaxis, :, :, tf.newaxis]
  return context * keep
