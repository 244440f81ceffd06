"""IR2I: an R2I coder of inpainting residuals (paper 2, section 2.2.2).

The inpainting network predicts a block from its 64x64 partial context; the progressive
coder then codes the inpainting residual R_0 = P - M_I(C), and every stage's
reconstruction is the coder's output plus the inpainting:

  P_s = M_I(C) + M_s(R_{s-1}),

so each stage still predicts the image. Training (Eq. 4) minimises the inpainting loss
plus every stage's ||P - P_s||^2; jointly (`joint`, the paper's IR2I), the stages' losses
reach the inpainting network, which learns an inpainting whose residuals are easy to
code. The separate baseline freezes an inpainter trained alone (Eq. 3).

Training crops are 64x64 with the block at the bottom right, context from the original
image; at coding time the context is the neighbours' first-code reconstruction
(`r2i_tf.scan`).
"""
from __future__ import annotations

from typing import Tuple

import tensorflow as tf

from r2i_tf.config import IR2IConfig
from r2i_tf.inpainting import CONTEXT, build_inpainter, target_block, training_context
from r2i_tf.models import R2I, CoderPass, to_unit
from r2i_tf.objective import ObjectiveModel


class IR2I(ObjectiveModel):
  """Inpainting network plus progressive coder, on 64x64 crops with values in [0, 1]."""

  def __init__(self, config: IR2IConfig, **kwargs):
    super().__init__(**kwargs)
    self.config = config
    self.inpainter = build_inpainter(config.inpainter)
    self.inpainter.trainable = config.joint
    self.coder = R2I(config.coder)
    self.loss_tracker = tf.keras.metrics.Mean(name="loss")
    self.psnr_inpainting = tf.keras.metrics.Mean(name="psnr_inpainting")
    self.psnr_first = tf.keras.metrics.Mean(name="psnr_first")
    self.psnr_last = tf.keras.metrics.Mean(name="psnr_last")

  @property
  def stages(self) -> list:
    return self.coder.stages

  @property
  def stage_losses(self) -> list:
    return self.coder.stage_losses

  @property
  def metrics(self) -> list:
    return ([self.loss_tracker, self.psnr_inpainting, self.psnr_first, self.psnr_last]
            + self.coder.binarizer_metrics)

  def inpaint(self, context: tf.Tensor, training: bool = False) -> tf.Tensor:
    """M_I(C): masked contexts (B, 64, 64, 3) to blocks (B, 32, 32, 3), both on [-1, 1]."""
    return self.inpainter(context, training=training and self.config.joint)

  def encode_residual(self, blocks: tf.Tensor, inpainting: tf.Tensor) -> tf.Tensor:
    """Test-time +-1 codes (stages, B, 2, 2, C) of blocks in [0, 1] given their inpainting."""
    return tf.stack(self.coder.run(2.0 * blocks - 1.0 - inpainting, None, training=False).codes)

  def decode_residual(self, codes: tf.Tensor, inpainting: tf.Tensor) -> tf.Tensor:
    """Reconstructions (k, B, 32, 32, 3) in ~[0, 1] from k stages' codes and the inpainting."""
    residuals = self.coder.run(None, tf.unstack(codes), training=False).reconstructions
    return (tf.stack(residuals) + inpainting[tf.newaxis] + 1.0) / 2.0

  def _forward(self, crops: tf.Tensor, training: bool) -> Tuple[tf.Tensor, CoderPass]:
    """The inpainting, [inpainting, P_1, ..., P_S] stacked (on [0, 1]), and the coder's
    pass (on the [-1, 1] scale), for 64x64 crops in [0, 1]."""
    scaled = 2.0 * crops - 1.0
    inpainting = self.inpaint(training_context(scaled, training), training)
    coded = self.coder.run(target_block(scaled) - inpainting, None, training)
    return to_unit([inpainting] + [inpainting + residual
                                   for residual in coded.reconstructions]), coded

  def call(self, crops: tf.Tensor, training: bool = False) -> tf.Tensor:
    """The inpainting and every stage's reconstruction: (1 + stages, B, 32, 32, 3) in ~[0, 1]."""
    return self._forward(crops, training)[0]

  def _objective(self, crops: tf.Tensor, training: bool) -> tf.Tensor:
    predictions, coded = self._forward(crops, training)
    block = target_block(crops)
    # Eq. 4 on the [-1, 1] scale: the inpainting loss (Eq. 3) plus every stage's loss.
    mse = tf.reduce_mean(tf.square(2.0 * (predictions - block[tf.newaxis])), axis=[1, 2, 3, 4])
    loss = tf.reduce_sum(mse)
    psnr = tf.image.psnr(tf.clip_by_value(predictions, 0.0, 1.0), block[tf.newaxis], max_val=1.0)
    self.loss_tracker.update_state(loss)
    self.psnr_inpainting.update_state(tf.reduce_mean(psnr[0]))
    self.psnr_first.update_state(tf.reduce_mean(psnr[1]))
    self.psnr_last.update_state(tf.reduce_mean(psnr[-1]))
    self.coder.track_binarizers(coded)
    if training:
      self.coder.track_stage_losses(mse[1:])  # mse[0] is the inpainting's
    return loss

  def build_variables(self) -> None:
    """Creates the variables (a forward pass on one zero crop)."""
    self(tf.zeros((1, CONTEXT, CONTEXT, 3)))
