"""--head-only: Eq. 4 over h alone, on a model whose transforms and entropy model stay."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from compression_eval.errors import UserError
from tests.deepsic_fixtures import tiny_model


def _fit_a_few_steps(model) -> None:
  images = tf.random.uniform((4, 32, 32, 3), seed=1)
  labels = tf.constant([0, 1, 2, 3], tf.int32)
  model.fit(tf.data.Dataset.from_tensors((images, labels)).repeat(3), verbose=0)


@pytest.mark.parametrize("architecture", ["pre", "post"])
def test_head_only_training_changes_the_head_and_nothing_the_files_depend_on(
    architecture, tmp_path):
  from compression_eval import training  # pylint: disable=import-outside-toplevel
  from deepsic_tf import train  # pylint: disable=import-outside-toplevel
  from deepsic_tf.presets import PRESETS  # pylint: disable=import-outside-toplevel
  source = tiny_model(architecture, seed=3)
  training.save_model(source, source.config.to_json(), tmp_path / "source")
  model = train.build_model(source.config, PRESETS["quick"], 10, init=tmp_path / "source",
                            trained="head")
  for mine, theirs in zip(model.head.weights, source.head.weights):  # the head continues
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
  kept = model.analysis.weights + model.synthesis.weights + list(model.prior.variables)
  before = [weight.numpy().copy() for weight in kept]
  head_before = [weight.numpy().copy() for weight in model.head.trainable_weights]
  _fit_a_few_steps(model)
  for old, weight in zip(before, kept):  # batch norm's moving statistics included
    np.testing.assert_array_equal(weight.numpy(), old)
  assert all(np.abs(old - weight.numpy()).max() > 0
             for old, weight in zip(head_before, model.head.trainable_weights))


def _model_from(source, tmp_path, head_scale: float):
  from compression_eval import training  # pylint: disable=import-outside-toplevel
  from deepsic_tf import train  # pylint: disable=import-outside-toplevel
  from deepsic_tf.presets import PRESETS  # pylint: disable=import-outside-toplevel
  training.save_model(source, source.config.to_json(), tmp_path / "source")
  config = dataclasses.replace(source.config,
                               head_filters=int(head_scale * source.config.head_filters),
                               head_units=int(head_scale * source.config.head_units))
  return train.build_model(config, PRESETS["quick"], 10, init=tmp_path / "source",
                           trained="head")


@pytest.mark.parametrize("architecture", ["pre", "post"])
def test_a_wider_head_keeps_the_init_heads_logits_on_its_transforms_and_prior(
    architecture, tmp_path):
  source = tiny_model(architecture, seed=4)
  model = _model_from(source, tmp_path, head_scale=2)
  assert model.head.get_layer("fc1").units == 2 * source.config.head_units
  images = tf.random.uniform((2, 32, 32, 3), seed=2)
  (pixels, bits, logits), (source_pixels, source_bits, source_logits) = (
      model(images), source(images))
  np.testing.assert_array_equal(pixels.numpy(), source_pixels.numpy())  # f and g
  np.testing.assert_array_equal(bits.numpy(), source_bits.numpy())  # f and the prior
  np.testing.assert_allclose(logits.numpy(), source_logits.numpy(), rtol=1e-5, atol=1e-5)
  new_units = model.head.get_layer("fc1").kernel.numpy()[:, source.config.head_units:]
  assert np.abs(new_units).max() > 0  # the new units have inputs: they can learn


def test_a_narrower_head_starts_fresh(tmp_path):
  source = tiny_model("post", seed=4)
  model = _model_from(source, tmp_path, head_scale=0.5)
  images = tf.random.uniform((2, 32, 32, 3), seed=2)
  (pixels, _, logits), (source_pixels, _, source_logits) = model(images), source(images)
  np.testing.assert_array_equal(pixels.numpy(), source_pixels.numpy())
  assert np.abs(logits.numpy() - source_logits.numpy()).max() > 1e-3


def test_widening_refuses_a_narrower_dimension_or_other_classes():
  from deepsic_tf.head_widening import widened_head_weights  # pylint: disable=import-outside-toplevel
  trained = [np.ones((3, 3, 4, 8)), np.ones(8), np.ones((8, 2)), np.ones(2)]
  fresh = [np.ones((3, 3, 4, 16)), np.ones(16), np.ones((16, 2)), np.ones(2)]
  widened = widened_head_weights(trained, fresh)
  assert widened is not None
  np.testing.assert_array_equal(widened[0][..., 8:], 1)  # new units' inputs stay fresh
  np.testing.assert_array_equal(widened[1][8:], 0)
  np.testing.assert_array_equal(widened[2][8:], 0)  # new units feed no logit
  assert widened_head_weights(trained, [fresh[0], fresh[1], np.ones((16, 1)), np.ones(1)]) is None
  more_classes = [fresh[0], fresh[1], np.ones((16, 3)), np.ones(3)]
  assert widened_head_weights(trained, more_classes) is None  # other classes: a fresh head


def test_head_only_needs_init_and_excludes_entropy_model_only(tmp_path):
  from deepsic_tf import train_cli  # pylint: disable=import-outside-toplevel
  with pytest.raises(UserError, match="--head-only needs --init"):
    train_cli.main(["--head-only", "--output", str(tmp_path / "run")])
  with pytest.raises(SystemExit):
    train_cli.main(["--head-only", "--entropy-model-only", "--init", str(tmp_path),
                    "--output", str(tmp_path / "run")])


def test_a_reference_started_from_a_pre_semantic_codec_classifies_as_the_codec_does(tmp_path):
  """Table I's reference starts from deepsic-pre-q4 (`deepsic_tf.presets.REFERENCE_START`):
  the codec's classifier h(f(x)), with the rate and distortion terms dropped."""
  import dataclasses  # pylint: disable=import-outside-toplevel
  from compression_eval import training  # pylint: disable=import-outside-toplevel
  from deepsic_tf import train  # pylint: disable=import-outside-toplevel
  from deepsic_tf.presets import PRESETS  # pylint: disable=import-outside-toplevel
  source = tiny_model("pre", seed=5)
  training.save_model(source, source.config.to_json(), tmp_path / "source")
  config = dataclasses.replace(source.config, architecture="reference")
  reference = train.build_model(config, PRESETS["quick"], 10, init=tmp_path / "source")
  images = tf.random.uniform((2, 32, 32, 3), seed=6)
  np.testing.assert_allclose(reference(images).numpy(), source(images)[2].numpy(), atol=1e-5)
  narrower = dataclasses.replace(config, filters=config.filters // 2)
  with pytest.raises(UserError, match="has other widths"):
    train.build_model(narrower, PRESETS["quick"], 10, init=tmp_path / "source")


def test_init_refuses_a_model_of_another_subsampling(tmp_path):
  """The weights of a stride-16 model fit a stride-32 one's shapes but not its function
  (docs/deepsic_accuracy.md): `--init` says so instead of training from them."""
  import dataclasses  # pylint: disable=import-outside-toplevel
  from compression_eval import training  # pylint: disable=import-outside-toplevel
  from deepsic_tf import train  # pylint: disable=import-outside-toplevel
  from deepsic_tf.presets import PRESETS  # pylint: disable=import-outside-toplevel
  source = tiny_model("pre", seed=5)
  training.save_model(source, source.config.to_json(), tmp_path / "source")
  coarser = dataclasses.replace(source.config, subsampling=(4, 2, 2, 2))
  with pytest.raises(UserError, match="subsamples by 4,2,2,1, this model by 4,2,2,2"):
    train.build_model(coarser, PRESETS["quick"], 10, init=tmp_path / "source")
