"""Partial-context inpainting networks (paper 2, section 2.2).

The input is a 64x64 context whose bottom-right 32x32 quarter (the block to code) is
zeroed; the output is the prediction of that quarter. The paper's network stacks 8
multi-scale convolutional layers, each 24 3x3 filters at each dilation 1, 2, 4 and 8,
concatenated, so that a few layers see the whole context at full resolution; one plain
convolution predicts the pixels. The vanilla baseline has the same parameter count in
32 plain 3x3 layers (dilation 1).

Pixels are on the [-1, 1] scale, so a zeroed region (the block, or context outside the
image for blocks on its top row or left column) reads as mid-grey.

Only the bottom-right block is predicted, so outside training each layer computes only
the bottom-right square of its feature map that the layers after it read
(`BottomRightConv2D`): the last multi-scale layers 33 to 57 pixels a side instead of 64, a
fifth less time to inpaint for the same prediction. Training computes the whole maps: the
cut's gradients (slices padded back, convolutions of odd sizes) made a step 17 % slower.
"""
from __future__ import annotations

import math
from typing import List, Sequence

import tensorflow as tf

from compression_eval.matmul_conv import NarrowConv2D
from r2i_tf.config import InpainterConfig
from r2i_tf.objective import ObjectiveModel

CONTEXT = 64
BLOCK = 32
DILATIONS = (1, 2, 4, 8)
_INIT = "he_normal"


def bottom_right(features: tf.Tensor, size: int) -> tf.Tensor:
  """The bottom-right size x size square of (B, H, W, C) features (all of it if smaller)."""
  return features[:, -size:, -size:, :]


class BottomRightConv2D(tf.keras.layers.Conv2D):
  """A 'same' convolution of maps whose bottom-right corner is the context's that, outside
  training, computes only its bottom-right `keep` x `keep` outputs.

  It then runs on the bottom-right (keep + reach) square of its input: the outputs it
  discards are the `reach` rows and columns next to that cut, which read zero padding
  there; the ones it keeps read what the whole map's convolution reads, and the bottom
  and right edges are the context's own, padded alike either way.
  """

  def __init__(self, filters: int, kernel_size: int, keep: int = CONTEXT, **kwargs):
    super().__init__(filters, kernel_size, padding="same", **kwargs)
    self.keep = keep

  def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
    if training:
      return super().call(inputs)
    reach = self.dilation_rate[0] * (self.kernel_size[0] // 2)
    return bottom_right(super().call(bottom_right(inputs, self.keep + reach)), self.keep)

  def get_config(self) -> dict:
    return {**super().get_config(), "keep": self.keep}


def kept_sizes(reaches: Sequence[int]) -> List[int]:
  """The side of the bottom-right square each of a stack of 'same' convolutions with
  these reaches must compute for a 3x3 prediction after them to yield the block: the last
  keeps the block and the prediction's reach, each earlier one what the next reads."""
  sizes = [BLOCK + 1]
  for reach in reversed(reaches[1:]):
    sizes.insert(0, min(CONTEXT, sizes[0] + reach))
  return sizes


class MultiScaleConv(tf.keras.layers.Layer):
  """`filters` 3x3 filters at each dilation, concatenated, then ReLU; outside training
  only the bottom-right `keep` x `keep` square (`BottomRightConv2D`)."""

  def __init__(self, filters: int, dilations: Sequence[int] = DILATIONS,
               keep: int = CONTEXT, **kwargs):
    super().__init__(**kwargs)
    self.filters = filters
    self.dilations = tuple(dilations)
    self.branches = [BottomRightConv2D(filters, 3, keep, dilation_rate=d,
                                       kernel_initializer=_INIT, name=f"dilation_{d}")
                     for d in self.dilations]

  def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
    return tf.nn.relu(tf.concat([branch(inputs, training=training)
                                 for branch in self.branches], axis=-1))


def _predict_block(features: tf.Tensor) -> tf.Tensor:
  """The plain prediction convolution, cropped to the bottom-right 32x32 quarter."""
  pixels = NarrowConv2D(3, 3, kernel_initializer=_INIT, name="predict")(features)
  return bottom_right(pixels, BLOCK)


def multiscale_inpainter(layers: int = 8, filters: int = 24) -> tf.keras.Model:
  """The paper's network: context (B, 64, 64, 3) -> block (B, 32, 32, 3)."""
  context = tf.keras.Input((CONTEXT, CONTEXT, 3), name="context")
  x = context
  for i, keep in enumerate(kept_sizes([max(DILATIONS)] * layers)):
    x = MultiScaleConv(filters, keep=keep, name=f"multiscale_{i + 1}")(x)
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
  for i, keep in enumerate(kept_sizes([1] * layers)):
    x = BottomRightConv2D(width, 3, keep, activation="relu", kernel_initializer=_INIT,
                          name=f"conv_{i + 1}")(x)
  return tf.keras.Model(context, _predict_block(x), name="vanilla_inpainter")


def mask_context(context: tf.Tensor) -> tf.Tensor:
  """Zeroes the bottom-right 32x32 quarter of (B, 64, 64, C) contexts: the block to predict."""
  rows = tf.range(CONTEXT)[:, tf.newaxis] >= CONTEXT - BLOCK
  cols = tf.range(CONTEXT)[tf.newaxis, :] >= CONTEXT - BLOCK
  keep = tf.cast(~(rows & cols), context.dtype)[tf.newaxis, :, :, tf.newaxis]
  return context * keep


def build_inpainter(config: InpainterConfig) -> tf.keras.Model:
  """The network a config names; the vanilla one matches the multi-scale parameter count."""
  multiscale = multiscale_inpainter(config.layers, config.filters)
  if config.network == "multiscale":
    return multiscale
  return vanilla_inpainter(multiscale.count_params(), layers=4 * config.layers)


def drop_missing_context(context: tf.Tensor, top: tf.Tensor, left: tf.Tensor) -> tf.Tensor:
  """Zeroes the top half of the contexts where `top` (B,) is true, the left half where
  `left` is: what a block on the image's top row or left column sees."""
  rows = tf.range(CONTEXT)[tf.newaxis, :, tf.newaxis] < CONTEXT - BLOCK
  cols = tf.range(CONTEXT)[tf.newaxis, tf.newaxis, :] < CONTEXT - BLOCK
  missing = ((top[:, tf.newaxis, tf.newaxis] & rows) | (left[:, tf.newaxis, tf.newaxis] & cols))
  return context * tf.cast(~missing, context.dtype)[..., tf.newaxis]


# How often training hides the context above / to the left (independently): as often as
# Kodak's blocks lack it, so that the network learns those cases in their proportion. A
# 768x512 image has 24x16 = 384 blocks of 32x32; the 24 of its top row lack the context
# above, the 16 of its left column the context to the left (portrait images swap the
# two), so a side is missing for (24 + 16) / 2 / 384 = 5.2 % of the blocks. Drawn
# independently at that rate, 1 - (1 - 0.052)^2 = 10.1 % of crops lack one side or both,
# as (24 + 16 - 1) / 384 = 10.2 % of Kodak's blocks do (0.2 a side hid context in 36 %
# of the crops, 3.5 times Kodak's share: issue 19).
KODAK_BLOCKS = (768 // BLOCK, 512 // BLOCK)
MISSING_CONTEXT_RATE = sum(KODAK_BLOCKS) / 2 / (KODAK_BLOCKS[0] * KODAK_BLOCKS[1])


def training_context(crops: tf.Tensor, training: bool) -> tf.Tensor:
  """The network input for 64x64 crops on the [-1, 1] scale: the block zeroed and, when
  training, the top or left half dropped at `MISSING_CONTEXT_RATE`."""
  context = mask_context(crops)
  if not training:
    return context
  batch = tf.shape(crops)[0]
  top = tf.random.uniform([batch]) < MISSING_CONTEXT_RATE
  left = tf.random.uniform([batch]) < MISSING_CONTEXT_RATE
  return drop_missing_context(context, top, left)


def target_block(crops: tf.Tensor) -> tf.Tensor:
  """The block to predict: the bottom-right 32x32 quarter of (B, 64, 64, 3) crops."""
  return bottom_right(crops, BLOCK)


class InpaintingModel(ObjectiveModel):
  """Trains an inpainting network alone on 64x64 crops in [0, 1] (Eq. 3)."""

  def __init__(self, config: InpainterConfig, **kwargs):
    super().__init__(**kwargs)
    self.config = config
    self.inpainter = build_inpainter(config)
    self.loss_tracker = tf.keras.metrics.Mean(name="loss")
    self.psnr = tf.keras.metrics.Mean(name="psnr_inpainting")

  @property
  def metrics(self) -> list:
    return [self.loss_tracker, self.psnr]

  def call(self, crops: tf.Tensor, training: bool = False) -> tf.Tensor:
    """The predicted blocks (B, 32, 32, 3) on the [0, 1] scale."""
    context = training_context(2.0 * crops - 1.0, training)
    return (self.inpainter(context, training=training) + 1.0) / 2.0

  def _objective(self, crops: tf.Tensor, training: bool) -> tf.Tensor:
    block = target_block(crops)
    predicted = self(crops, training=training)
    loss = tf.reduce_mean(tf.square(2.0 * (predicted - block)))  # on the [-1, 1] scale
    self.loss_tracker.update_state(loss)
    self.psnr.update_state(tf.reduce_mean(
        tf.image.psnr(tf.clip_by_value(predicted, 0.0, 1.0), block, max_val=1.0)))
    return loss

  def build_variables(self) -> None:
    self(tf.zeros((1, CONTEXT, CONTEXT, 3)))


def partial_context_inpainter(network: tf.keras.Model, batch: int = 256):
  """`network` as a `compression_eval.partial_context` inpainter: contexts in [0, 1]
  with a known mask in, blocks in [0, 1] out; unknown context is zero on [-1, 1]."""
  import numpy as np  # pylint: disable=import-outside-toplevel

  def inpaint(contexts: np.ndarray, known: np.ndarray) -> np.ndarray:
    scaled = ((2.0 * contexts - 1.0) * known[..., np.newaxis]).astype(np.float32)
    blocks = [network(scaled[i:i + batch], training=False).numpy()
              for i in range(0, len(scaled), batch)]
    return np.clip((np.concatenate(blocks) + 1.0) / 2.0, 0.0, 1.0)
  return inpaint
