"""The progressive coder: eight stages, each coding what the previous ones missed.

Every stage s takes the residual R_{s-1} = P - P_{s-1} between the patch and the
current reconstruction (P_0 = 0) and writes 128 bits. The variants differ in how a
stage's output becomes the reconstruction P_s (paper 2, section 2 and Figure 1):

- residual (Toderici et al.): the stage reconstructs the residual, P_s = P_{s-1} + y_s
  (Eq. 1: each stage's loss is ||R_{s-1} - y_s||^2, which equals ||P - P_s||^2);
- prediction: the image, P_s = tanh(y_1 + ... + y_s), the stages' outputs summed before
  the final non-linearity;
- full / decoding: the image, P_s = tanh(y_s), where the stage's layers also see the
  previous stage's (all layers / decoder layers only).

The loss is Eq. 1 / Eq. 2, summed over stages; pixels are scaled to [-1, 1] inside.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import tensorflow as tf

from r2i_tf.config import PATCH_SIZE, R2IConfig
from r2i_tf.objective import ObjectiveModel
from r2i_tf.stage import Features, Stage


class R2I(ObjectiveModel):
  """An 8-stage binary coder of 32x32 patches with values in [0, 1]."""

  def __init__(self, config: R2IConfig, **kwargs):
    super().__init__(**kwargs)
    self.config = config
    self.stages = [
        Stage(config, connect_encoder=config.variant == "full" and s > 0,
              connect_decoder=config.variant in ("full", "decoding") and s > 0, name=f"stage_{s + 1}")
        for s in range(config.stages)
    ]
    self.loss_tracker = tf.keras.metrics.Mean(name="loss")
    self.psnr_first = tf.keras.metrics.Mean(name="psnr_first")
    self.psnr_last = tf.keras.metrics.Mean(name="psnr_last")

  @property
  def metrics(self) -> list:
    return [self.loss_tracker, self.psnr_first, self.psnr_last]

  def _reconstruction(self, outputs: List[tf.Tensor], previous: tf.Tensor) -> tf.Tensor:
    """P_s in [-1, 1] scale from the stage outputs so far (see the module docstring)."""
    variant = self.config.variant
    if variant == "residual":
      return previous + outputs[-1]
    if variant == "prediction":
      return tf.tanh(tf.add_n(outputs))
    return tf.tanh(outputs[-1])

  def run(self, target: Optional[tf.Tensor], codes: Optional[List[tf.Tensor]],
          training: bool) -> Tuple[List[tf.Tensor], List[tf.Tensor]]:
    """Encodes `target` (codes None) or decodes `codes`; returns (codes, reconstructions).

    Both the target and the reconstructions are on the [-1, 1] scale: patches, or for
    IR2I the inpainting residuals R_0 (`r2i_tf.ir2i`).
    """
    count = self.config.stages if codes is None else len(codes)
    encoder: Optional[Features] = None
    decoder: Optional[Features] = None
    outputs: List[tf.Tensor] = []
    written: List[tf.Tensor] = []
    reconstructions: List[tf.Tensor] = []
    reconstruction = 0.0 if target is None else tf.zeros_like(target)
    for s in range(count):
      stage = self.stages[s]
      if codes is None:
        code, encoder = stage.encode(target - reconstruction, encoder, training)
      else:
        code = codes[s]
      output, decoder = stage.decode(code, decoder)
      outputs.append(output)
      reconstruction = self._reconstruction(outputs, reconstruction)
      written.append(code)
      reconstructions.append(reconstruction)
    return written, reconstructions

  def call(self, patches: tf.Tensor, training: bool = False) -> tf.Tensor:
    """Each stage's reconstruction of `patches`, stacked: (stages, B, 32, 32, 3) in ~[0, 1]."""
    return (tf.stack(self.run(2.0 * patches - 1.0, None, training)[1]) + 1.0) / 2.0

  def encode(self, patches: tf.Tensor) -> tf.Tensor:
    """Test-time +-1 codes of every stage: (stages, B, 2, 2, C)."""
    return tf.stack(self.run(2.0 * patches - 1.0, None, training=False)[0])

  def decode(self, codes: tf.Tensor) -> tf.Tensor:
    """Reconstructions (k, B, 32, 32, 3) from the codes of the first k stages (k, B, 2, 2, C)."""
    return (tf.stack(self.run(None, tf.unstack(codes), training=False)[1]) + 1.0) / 2.0

  def _objective(self, patches: tf.Tensor, training: bool) -> tf.Tensor:
    reconstructions = self(patches, training=training)
    # Eq. 1 / Eq. 2 on the [-1, 1] scale: per stage, squared error averaged over pixels.
    mse = tf.reduce_mean(tf.square(2.0 * (reconstructions - patches[tf.newaxis])),
                         axis=[1, 2, 3, 4])
    loss = tf.reduce_sum(mse)
    clipped = tf.clip_by_value(reconstructions, 0.0, 1.0)
    psnr = tf.image.psnr(clipped, patches[tf.newaxis], max_val=1.0)
    self.loss_tracker.update_state(loss)
    self.psnr_first.update_state(tf.reduce_mean(psnr[0]))
    self.psnr_last.update_state(tf.reduce_mean(psnr[-1]))
    return loss

  def build_variables(self) -> None:
    """Creates the variables (a forward pass on one zero patch)."""
    self(tf.zeros((1, PATCH_SIZE, PATCH_SIZE, 3)))
