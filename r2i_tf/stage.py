"""One stage of the progressive coder: encoder, binariser and decoder, with its connections.

The stage follows Toderici et al.'s convolutional residual encoder: four stride-2
convolutions take a 32x32 residual to 2x2, a 1x1 convolution with tanh and the
binariser give 32 channels of +-1 (128 bits), and a 1x1 convolution followed by four
stride-2 transposed convolutions and a last convolution bring the code back to
32x32x3.

Paper 2's parametric connections (section 2.1) add, before each layer's non-linearity,
a learned projection (here a 1x1 convolution) of the same layer's output in the
previous stage: on every encoder and decoder layer ("full") or on the decoder layers
only ("decoding"). The binarisation layer is never connected, so each stage's code is
computed from its own residual features.

The paper initialises the stages with MSRA (section 2.3). The links start at zero, but
the output link, which copies the previous stage's output: a new stage is then the
prediction variant's (its decoder adds a correction to the previous stage's output before
the tanh; its encoder sees only its residual), and it learns from there how much of the
previous stage's features to take. Links at He scale added those features at full
strength to every pre-activation: the full variant's binarisers saturated (mean |tanh|
0.98 by stage 8, 1 % of bits flipping) and its last stages learned nothing (issue 19).
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import tensorflow as tf

from compression_eval.matmul_conv import NarrowConv2D
from r2i_tf.binarizer import binarize
from r2i_tf.config import R2IConfig

Features = List[tf.Tensor]
_INIT = "he_normal"  # the paper initialises every stage with MSRA


def _identity_1x1(shape: Sequence[int], dtype: tf.DType = tf.float32) -> tf.Tensor:
  """A 1x1 convolution kernel that copies its input channels."""
  return tf.eye(shape[-2], shape[-1], dtype=dtype)[tf.newaxis, tf.newaxis]


def _conv(filters: int, kernel: int, strides: int = 1, transpose: bool = False,
          name: str = "", use_bias: bool = True, initializer=_INIT) -> tf.keras.layers.Layer:
  layer = tf.keras.layers.Conv2DTranspose if transpose else tf.keras.layers.Conv2D
  return layer(filters, kernel, strides=strides, padding="same", use_bias=use_bias,
               kernel_initializer=initializer, name=name)


class Stage(tf.keras.layers.Layer):
  """Stage s of an R2I / residual encoder model.

  Args:
    config: the model's config (widths, code channels).
    connect_encoder: add projections of the previous stage's encoder features.
    connect_decoder: add projections of the previous stage's decoder features.
  """

  def __init__(self, config: R2IConfig, connect_encoder: bool, connect_decoder: bool,
               **kwargs):
    super().__init__(**kwargs)
    self.encoder = [_conv(f, 3, 2, name=f"encode_{i}") for i, f in enumerate(config.encoder_filters)]
    self.to_code = tf.keras.layers.Conv2D(config.code_channels, 1, activation="tanh",
                                          kernel_initializer="glorot_uniform", name="binarize")
    first, *rest = config.decoder_filters
    self.decoder = ([_conv(first, 1, name="decode_0")] +
                    [_conv(f, 3, 2, transpose=True, name=f"decode_{i + 1}")
                     for i, f in enumerate(rest)] +
                    [NarrowConv2D(3, 3, kernel_initializer=_INIT, name="to_rgb")])
    self.encoder_links = self._links(config.encoder_filters, connect_encoder, "link_encode")
    self.decoder_links = self._links((*config.decoder_filters, 3), connect_decoder, "link_decode",
                                     identity_last=True)

  @staticmethod
  def _links(widths: Sequence[int], connect: bool, name: str,
             identity_last: bool = False) -> Optional[list]:
    if not connect:
      return None
    last = len(widths) - 1
    return [_conv(f, 1, name=f"{name}_{i}", use_bias=False,
                  initializer=_identity_1x1 if identity_last and i == last else "zeros")
            for i, f in enumerate(widths)]

  @staticmethod
  def _layer(layer: tf.keras.layers.Layer, link: Optional[tf.keras.layers.Layer],
             inputs: tf.Tensor, previous: Optional[tf.Tensor]) -> tf.Tensor:
    """A layer's pre-activation, plus the projected previous-stage features if linked."""
    outputs = layer(inputs)
    if link is not None and previous is not None:
      outputs += link(previous)
    return outputs

  def encode(self, residual: tf.Tensor, previous: Optional[Features],
             training: bool) -> Tuple[tf.Tensor, tf.Tensor, Features]:
    """A residual (B, 32, 32, 3) to +-1 codes (B, 2, 2, C), the tanh they binarise (for
    the binariser's health, `r2i_tf.binarizer.health`) and this stage's encoder features."""
    features: Features = []
    x = residual
    for i, layer in enumerate(self.encoder):
      link = self.encoder_links[i] if self.encoder_links else None
      x = tf.nn.relu(self._layer(layer, link, x, previous[i] if previous else None))
      features.append(x)
    activation = self.to_code(x)
    return binarize(activation, training), activation, features

  def decode(self, code: tf.Tensor, previous: Optional[Features]) -> Tuple[tf.Tensor, Features]:
    """+-1 codes to this stage's output before its final non-linearity, and its features.

    The last feature is that pre-activation output, which the next stage's output
    layer links to.
    """
    features: Features = []
    x = code
    for i, layer in enumerate(self.decoder):
      link = self.decoder_links[i] if self.decoder_links else None
      x = self._layer(layer, link, x, previous[i] if previous else None)
      if i < len(self.decoder) - 1:
        x = tf.nn.relu(x)
      features.append(x)
    return x, features
