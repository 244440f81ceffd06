"""The training helpers both trainers share: schedules, resumable run folders, saving."""
from __future__ import annotations

import json

import pytest
import tensorflow as tf

from compression_eval import training
from compression_eval.errors import UserError


def test_step_schedule_drops_at_the_papers_fractions_of_any_run_length():
  # R2I: 1e-3, dropped by 10 at 30K and 45K of 60K iterations.
  schedule = training.step_schedule(1e-3, 60_000, drops=(0.5, 0.75), factor=10)
  rates = {step: float(schedule(step)) for step in (0, 30_000, 30_001, 45_000, 45_001, 59_999)}
  assert rates[0] == rates[30_000] == pytest.approx(1e-3)  # dropped after 30K iterations
  assert rates[30_001] == rates[45_000] == pytest.approx(1e-4)
  assert rates[45_001] == rates[59_999] == pytest.approx(1e-5)
  tiny = training.step_schedule(1.0, 2, drops=(0.5, 0.75), factor=10)  # boundaries stay ordered
  assert [float(tiny(step)) for step in (0, 1, 2, 3)] == pytest.approx([1.0, 1.0, 0.1, 0.01])


def test_a_run_folder_refuses_another_config(tmp_path):
  training.check_resumable(tmp_path, '{"a": 1}')
  training.check_resumable(tmp_path, '{"a": 1}')  # same config: resumes
  with pytest.raises(UserError, match="different model config"):
    training.check_resumable(tmp_path, '{"a": 2}')


def test_saved_model_folders_load_back_or_fail_in_one_line(tmp_path):
  def build(config: dict) -> tf.keras.Model:
    model = tf.keras.Sequential([tf.keras.layers.Dense(config["units"])])
    model.build((None, 3))
    return model

  model = build({"units": 2})
  training.save_model(model, '{"units": 2}', tmp_path / "model")
  loaded = training.load_model(tmp_path / "model", "toy", json.loads, build)
  for saved, restored in zip(model.weights, loaded.weights):
    assert (saved.numpy() == restored.numpy()).all()
  with pytest.raises(UserError, match="no trained toy model"):
    training.load_model(tmp_path / "nothing", "toy", json.loads, build)
  (tmp_path / "model" / "config.json").write_text('{"units": 5}')
  with pytest.raises(UserError, match="cannot load the weights"):
    training.load_model(tmp_path / "model", "toy", json.loads, build)
