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
Besides the loss and PSNR, training reports each stage's binariser health
(`r2i_tf.binarizer.health`): `abs_tanh_S` and `flips_S` for stage S, in the history
and TensorBoard; and keeps each stage's training loss for `r2i_tf.stage_losses`
(Figure 4).
"""
from __future__ import annotations

from typing import List, NamedTuple, Optional

import tensorflow as tf

from r2i_tf.binarizer import health
from r2i_tf.config import PATCH_SIZE, R2IConfig
from r2i_tf.objective import ObjectiveModel
from r2i_tf.stage import Features, Stage


def to_unit(images: List[tf.Tensor]) -> tf.Tensor:
  """Images on the [-1, 1] scale, stacked and brought to [0, 1]."""
  return (tf.stack(images) + 1.0) / 2.0


class CoderPass(NamedTuple):
  """What `R2I.run` computes, per stage: the +-1 codes, the reconstructions and, when it
  encodes, the tanh that the codes binarise."""
  codes: List[tf.Tensor]
  reconstructions: List[tf.Tensor]
  activations: List[tf.Tensor]


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
    self.abs_tanh = [tf.keras.metrics.Mean(name=f"abs_tanh_{s + 1}")
                     for s in range(config.stages)]
    self.flips = [tf.keras.metrics.Mean(name=f"flips_{s + 1}") for s in range(config.stages)]
    # Each stage's training loss since the trainer last read them (`r2i_tf.train.
    # StageLossLog`); not among `metrics`, which Keras resets every epoch and prints.
    self.stage_losses = [tf.keras.metrics.Mean(name=f"stage_loss_{s + 1}")
                         for s in range(config.stages)]

  @property
  def binarizer_metrics(self) -> list:
    """Each stage's mean |tanh| and flip rate (`track_binarizers`); IR2I reports them too."""
    return list(self.abs_tanh) + list(self.flips)

  @property
  def metrics(self) -> list:
    return [self.loss_tracker, self.psnr_first, self.psnr_last] + self.binarizer_metrics

  def track_binarizers(self, coded: CoderPass) -> None:
    """Updates each stage's mean |tanh| and flip rate from an encoding pass."""
    for s, (activation, code) in enumerate(zip(coded.activations, coded.codes)):
      abs_tanh, flips = health(activation, code)
      self.abs_tanh[s].update_state(abs_tanh)
      self.flips[s].update_state(flips)

  def track_stage_losses(self, losses: tf.Tensor) -> None:
    """Adds each stage's loss of a training batch (stages,) to its mean; IR2I's too."""
    for tracker, loss in zip(self.stage_losses, tf.unstack(losses)):
      tracker.update_state(loss)

  def _reconstruction(self, outputs: List[tf.Tensor], previous: tf.Tensor) -> tf.Tensor:
    """P_s in [-1, 1] scale from the stage outputs so far (see the module docstring)."""
    variant = self.config.variant
    if variant == "residual":
      return previous + outputs[-1]
    if variant == "prediction":
      return tf.tanh(tf.add_n(outputs))
    return tf.tanh(outputs[-1])

  def run(self, target: Optional[tf.Tensor], codes: Optional[List[tf.Tensor]],
          training: bool) -> CoderPass:
    """Encodes `target` (codes None) or decodes `codes`.

    Both the target and the reconstructions are on the [-1, 1] scale: patches, or for
    IR2I the inpainting residuals R_0 (`r2i_tf.ir2i`).
    """
    count = self.config.stages if codes is None else len(codes)
    encoder: Optional[Features] = None
    decoder: Optional[Features] = None
    outputs: List[tf.Tensor] = []
    coded = CoderPass([], [], [])
    reconstruction = 0.0 if target is None else tf.zeros_like(target)
    for s in range(count):
      stage = self.stages[s]
      if codes is None:
        code, activation, encoder = stage.encode(target - reconstruction, encoder, training)
        coded.activations.append(activation)
      else:
        code = codes[s]
      output, decoder = stage.decode(code, decoder)
      outputs.append(output)
      reconstruction = self._reconstruction(outputs, reconstruction)
      coded.codes.append(code)
      coded.reconstructions.append(reconstruction)
    return coded

  def call(self, patches: tf.Tensor, training: bool = False) -> tf.Tensor:
    """Each stage's reconstruction of `patches`, stacked: (stages, B, 32, 32, 3) in ~[0, 1]."""
    return to_unit(self.run(2.0 * patches - 1.0, None, training).reconstructions)

  def encode(self, patches: tf.Tensor) -> tf.Tensor:
    """Test-time +-1 codes of every stage: (stages, B, 2, 2, C)."""
    return tf.stack(self.run(2.0 * patches - 1.0, None, training=False).codes)

  def decode(self, codes: tf.Tensor) -> tf.Tensor:
    """Reconstructions (k, B, 32, 32, 3) from the codes of the first k stages (k, B, 2, 2, C)."""
    return to_unit(self.run(None, tf.unstack(codes), training=False).reconstructions)

  def _objective(self, patches: tf.Tensor, training: bool) -> tf.Tensor:
    coded = self.run(2.0 * patches - 1.0, None, training)
    reconstructions = to_unit(coded.reconstructions)
    # Eq. 1 / Eq. 2 on the [-1, 1] scale: per stage, squared error averaged over pixels.
    mse = tf.reduce_mean(tf.square(2.0 * (reconstructions - patches[tf.newaxis])),
                         axis=[1, 2, 3, 4])
    loss = tf.reduce_sum(mse)
    clipped = tf.clip_by_value(reconstructions, 0.0, 1.0)
    psnr = tf.image.psnr(clipped, patches[tf.newaxis], max_val=1.0)
    self.loss_tracker.update_state(loss)
    self.psnr_first.update_state(tf.reduce_mean(psnr[0]))
    self.psnr_last.update_state(tf.reduce_mean(psnr[-1]))
    self.track_binarizers(coded)
    if training:
      self.track_stage_losses(mse)
    return loss

  def build_variables(self) -> None:
    """Creates the variables (a forward pass on one zero patch)."""
    self(tf.zeros((1, PATCH_SIZE, PATCH_SIZE, 3)))
