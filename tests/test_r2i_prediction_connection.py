"""R2I's prediction connections against paper 2, section 2.1 and Figure 1(b).

The paper: stage s takes the residual R_{s-1} = P - M_{s-1} with respect to the image
(Eq. 2's definition), "the output of each stage is produced by simply adding together the
residual predictions of the current stage and all preceding stages ... before applying a
final non-linearity", the connection is parameter-free, and the loss is Eq. 2, each
stage's squared error against the image P. The residual encoder (Figure 1(a), Eq. 1)
reconstructs the residual instead: P_s = P_{s-1} + y_s, no final non-linearity.

These tests pin `r2i_tf.models.R2I` (`run`, `_reconstruction`, `_objective`) and
`r2i_tf.stage.Stage.decode` to that reading, and pin the finding of
docs/r2i_prediction_connection.md: with Eq. 1 differentiated through its target, the
residual encoder already has the direct gradient path from a later stage's loss to an
earlier stage's output that the paper credits the prediction connection with; only with
the target held fixed does it lose it.
"""
from __future__ import annotations

from typing import List, Tuple

import numpy as np
import pytest
import tensorflow as tf

from r2i_tf.models import R2I
from tests.conftest import smooth_image
from tests.r2i_fixtures import TINY, tiny_r2i


def _patches(count: int, seed: int = 0) -> tf.Tensor:
  image = smooth_image(32 * count, 32, seed=seed)
  return tf.constant(image.reshape(count, 32, 32, 3).astype(np.float32) / 255.0)


def _recorded_run(model: R2I, patches: tf.Tensor, monkeypatch
                  ) -> Tuple[tf.Tensor, list, List[tf.Tensor], List[tf.Tensor]]:
  """`model.run` at test time, recording what each stage's encoder was given and what its
  decoder returned: (target on the [-1, 1] scale, reconstructions, inputs, outputs)."""
  inputs: List[tf.Tensor] = []
  outputs: List[tf.Tensor] = []
  for stage in model.stages:
    def encode(residual, previous, training, _encode=stage.encode):
      inputs.append(residual)
      return _encode(residual, previous, training)

    def decode(code, previous, _decode=stage.decode):
      output, features = _decode(code, previous)
      outputs.append(output)
      return output, features
    monkeypatch.setattr(stage, "encode", encode)
    monkeypatch.setattr(stage, "decode", decode)
  target = 2.0 * patches - 1.0
  coded = model.run(target, None, training=False)
  return target, coded.reconstructions, inputs, outputs


def _largest_difference(a, b) -> float:
  return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


def test_each_prediction_stage_codes_the_residual_with_respect_to_the_image(monkeypatch):
  model = tiny_r2i("prediction")
  target, reconstructions, inputs, _ = _recorded_run(model, _patches(4), monkeypatch)
  assert len(inputs) == TINY["stages"]
  np.testing.assert_allclose(inputs[0].numpy(), target.numpy(), atol=1e-6)  # R_0 = P
  for s in range(1, TINY["stages"]):
    # R_{s-1} = P - M_{s-1}: the previous stage's image estimate, not a residual estimate.
    np.testing.assert_allclose(inputs[s].numpy(), (target - reconstructions[s - 1]).numpy(),
                               atol=1e-6)


def test_prediction_output_is_tanh_of_the_summed_pre_activations(monkeypatch):
  model = tiny_r2i("prediction")
  _, reconstructions, _, outputs = _recorded_run(model, _patches(4), monkeypatch)
  for s in range(TINY["stages"]):
    summed = tf.add_n(outputs[:s + 1])
    np.testing.assert_allclose(reconstructions[s].numpy(), np.tanh(summed.numpy()), atol=1e-5)
    if s:
      # The previous prediction enters before the non-linearity: neither the stage's own
      # tanh (the full / decoding form) nor the previous image plus a squashed correction.
      assert _largest_difference(reconstructions[s], np.tanh(outputs[s])) > 1e-2
      assert _largest_difference(reconstructions[s],
                                 reconstructions[s - 1] + np.tanh(outputs[s])) > 1e-2


def test_a_stage_returns_its_linear_pre_activation_and_the_tanh_comes_once_after_the_sum():
  model = tiny_r2i("prediction")
  codes = model.encode(_patches(2))
  stage = model.stages[1]
  output, features = stage.decode(codes[1], None)
  # The last layer is the plain RGB convolution of the last ReLU features: no tanh inside.
  np.testing.assert_allclose(output.numpy(), stage.decoder[-1](features[-2]).numpy(), atol=1e-6)
  np.testing.assert_array_equal(features[-1].numpy(), output.numpy())
  # With the RGB layers scaled up, the pre-activations leave [-1, 1] but the prediction
  # variant's reconstruction stays inside (one final tanh); the residual encoder's, which
  # has no final non-linearity, does not.
  scaled = {}
  for variant in ("prediction", "residual"):
    scaled[variant] = tiny_r2i(variant)
    for each in scaled[variant].stages:
      kernel, bias = each.decoder[-1].get_weights()
      each.decoder[-1].set_weights([50.0 * kernel, bias])
  patches = _patches(4)
  prediction = scaled["prediction"](patches).numpy()
  residual = scaled["residual"](patches).numpy()
  assert prediction.min() >= 0.0 and prediction.max() <= 1.0
  assert residual.min() < -0.5 or residual.max() > 1.5


def test_the_prediction_connection_is_parameter_free():
  prediction, residual = tiny_r2i("prediction"), tiny_r2i("residual")
  names = [w.name for w in prediction.trainable_weights]
  assert not any("link" in name for name in names)
  assert [w.shape for w in prediction.trainable_weights] == [
      w.shape for w in residual.trainable_weights]


@pytest.mark.parametrize("variant", ["prediction", "residual"])
def test_the_loss_is_the_sum_over_stages_of_each_stages_error(variant, monkeypatch):
  model = tiny_r2i(variant)
  patches = _patches(4)
  loss = float(model._objective(patches, training=False))  # pylint: disable=protected-access
  target, _, inputs, outputs = _recorded_run(model, patches, monkeypatch)
  assert len(outputs) == TINY["stages"]
  if variant == "prediction":
    # Eq. 2: || P - M_s ||^2 with M_s = tanh(y_1 + ... + y_s), averaged over pixels.
    terms = [tf.reduce_mean(tf.square(target - tf.tanh(tf.add_n(outputs[:s + 1]))))
             for s in range(len(outputs))]
  else:
    # Eq. 1: || R_{s-1} - M_s(R_{s-1}) ||^2, the stage's own output against its input.
    terms = [tf.reduce_mean(tf.square(residual - output))
             for residual, output in zip(inputs, outputs)]
  assert loss == pytest.approx(float(tf.add_n(terms)), rel=1e-5)
  # Neither is the last stage alone: every stage's error counts.
  assert loss > 1.5 * float(terms[-1])


def test_decoding_the_codes_rebuilds_the_tanh_of_the_running_sum():
  model = tiny_r2i("prediction")
  codes = model.encode(_patches(4))
  decoded = model.decode(codes).numpy()
  features, outputs = None, []
  for stage, code in zip(model.stages, tf.unstack(codes)):
    output, features = stage.decode(code, features)
    outputs.append(output)
  expected = (np.tanh(np.cumsum(np.stack([o.numpy() for o in outputs]), axis=0)) + 1.0) / 2.0
  np.testing.assert_allclose(decoded, expected, atol=1e-5)
  # A stream cut after stage k decodes to the stage-k image of the full stream.
  np.testing.assert_allclose(model.decode(codes[:2]).numpy(), decoded[:2], atol=1e-5)


def _stage_one_gradient(model: R2I, patches: tf.Tensor, hold_target: bool = False) -> float:
  """|d loss_2 / d stage 1's RGB kernel| at test time, where the sign binariser passes no
  gradient: what is left is the direct path from stage 2's loss to stage 1's output.
  `hold_target`: the residual encoder's Eq. 1 with its target R_1 held fixed."""
  kernel = model.stages[0].decoder[-1].kernel
  target = 2.0 * patches - 1.0
  with tf.GradientTape() as tape:
    first, second = model.run(target, None, training=False).reconstructions[:2]
    if hold_target:
      loss = tf.reduce_mean(tf.square(tf.stop_gradient(target - first) - (second - first)))
    else:
      loss = tf.reduce_mean(tf.square(target - second))
  gradient = tape.gradient(loss, kernel)
  return 0.0 if gradient is None else float(tf.norm(gradient))


def test_the_residual_encoders_eq1_already_has_the_prediction_connections_short_path():
  patches = _patches(4)
  # The prediction connection: stage 2's loss reaches stage 1's output directly.
  assert _stage_one_gradient(tiny_r2i("prediction"), patches) > 1e-4
  # So does the residual encoder's as implemented (M_2 = M_1 + y_2, Eq. 1 differentiated
  # through its target R_1 = P - M_1): the two variants differ only by the final tanh.
  residual = tiny_r2i("residual")
  assert _stage_one_gradient(residual, patches) > 1e-4
  # Held fixed, the target leaves only the long path through stage 2's encoder, which the
  # test-time binariser cuts: the residual encoder that section 2 describes.
  assert _stage_one_gradient(residual, patches, hold_target=True) < 1e-9
