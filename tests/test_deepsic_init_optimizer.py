"""A run started with --init from a run folder starts its optimizer afresh: step 0, zero
moments, its schedule at the base rate. The folder's checkpoint also holds the earlier
run's optimizer; restored, it put every chained run (prior, head) at its schedule's floor."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.deepsic_fixtures import tiny_model


def _a_run_folder_after_steps(folder, steps: int):
  from compression_eval import training  # pylint: disable=import-outside-toplevel
  from deepsic_tf import train  # pylint: disable=import-outside-toplevel
  from deepsic_tf.presets import PRESETS  # pylint: disable=import-outside-toplevel
  config = tiny_model("post", seed=5).config
  model = train.build_model(config, PRESETS["quick"], steps)
  images = tf.random.uniform((4, 32, 32, 3), seed=1)
  labels = tf.constant([0, 1, 2, 3], tf.int32)
  model.fit(tf.data.Dataset.from_tensors((images, labels)).repeat(steps), verbose=0)
  assert int(model.optimizer.iterations.numpy()) == steps
  training.save_model(model, config.to_json(), folder)
  return config


@pytest.mark.parametrize("trained", ["all", "head", "entropy-model"])
def test_a_run_from_init_starts_at_step_zero_with_zero_moments(trained, tmp_path):
  from deepsic_tf import train  # pylint: disable=import-outside-toplevel
  from deepsic_tf.presets import PRESETS  # pylint: disable=import-outside-toplevel
  config = _a_run_folder_after_steps(tmp_path / "earlier", 12)
  preset = PRESETS["quick"]
  model = train.build_model(config, preset, 10, init=tmp_path / "earlier", trained=trained)
  optimizer = model.optimizer
  assert int(optimizer.iterations.numpy()) == 0
  moments = [variable for variable in optimizer.variables if variable.dtype != tf.int64]
  assert moments and all(not np.any(variable.numpy()) for variable in moments)
  # The schedule of a 10-step run read at step 0 is the preset's base rate, not the floor
  # the earlier run's step 12 would give it.
  assert float(optimizer.learning_rate) == pytest.approx(preset.learning_rate)
