"""R2I's trainer logs each stage's training loss, and Figure 4 is drawn from such logs."""
from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import tensorflow as tf

from compression_eval.errors import UserError
from r2i_tf import stage_losses, train
from r2i_tf.config import R2IConfig
from r2i_tf.presets import TrainPreset
from tests.conftest import write_image_folder
from tests.r2i_fixtures import TINY
from tests.test_deepsic_cli import _one_line_error, _run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _event_tags(folder) -> set:
  """(tag, step) of every scalar in a TensorBoard log folder."""
  records = [record.numpy() for path in folder.iterdir()
             for record in tf.data.TFRecordDataset(str(path))]
  return {(value.tag, event.step) for event in map(tf.compat.v1.Event.FromString, records)
          for value in event.summary.value}


def test_the_trainer_logs_each_stages_mean_loss_every_few_steps(tmp_path):
  # Eight stages, as the paper's coder; epochs of 4 steps, a log entry every 4 steps, so
  # each entry covers one epoch and the stages' entries must sum to that epoch's loss.
  tf.keras.utils.set_random_seed(0)
  config = R2IConfig(variant="decoding", encoder_filters=TINY["encoder_filters"],
                     decoder_filters=TINY["decoder_filters"])
  preset = TrainPreset(batch_size=4, steps=8, learning_rate=1e-3, steps_per_epoch=4,
                       drops=(0.9,))
  folder = write_image_folder(tmp_path / "data", {"train": 3, "val": 1})
  data = train.prepare_data(f"folder:{folder}", preset.batch_size)
  run = tmp_path / "run"
  train.fit(config, preset, data, run, tf.distribute.get_strategy(), verbose=0,
            stage_loss_every=4)

  logged = json.loads((run / stage_losses.FILE).read_text())
  assert logged["every"] == 4 and logged["steps"] == [4, 8]
  assert len(logged["stages"]) == 8
  assert all(len(values) == 2 and all(math.isfinite(v) and v > 0 for v in values)
             for values in logged["stages"])
  with open(run / "history.csv", newline="", encoding="utf-8") as handle:
    epoch_losses = [float(row["loss"]) for row in csv.DictReader(handle)]
  np.testing.assert_allclose(np.sum(logged["stages"], axis=0), epoch_losses, rtol=1e-4)
  assert {(f"stage_{s}", step) for s in range(1, 9) for step in (4, 8)} <= _event_tags(
      run / "logs" / "stage_losses")


def test_a_resumed_run_keeps_the_log_up_to_its_backup_and_the_log_reads_back(tmp_path):
  log = stage_losses.StageLosses.empty(every=10, stages=2)
  for step in (10, 20, 30):
    log = log.append(step, [1.0 / step, 0.5 / step])
  resumed = log.until(20)
  assert resumed.steps == (10, 20) and resumed.stages == ((0.1, 0.05), (0.05, 0.025))
  path = tmp_path / stage_losses.FILE
  path.write_text(log.to_json())
  assert stage_losses.read(path) == log


@pytest.mark.parametrize("broken, message", [
    ({"every": 10, "steps": [10, 20], "stages": [[1.0, 2.0], [1.0]]}, "one loss per logged step"),
    ({"every": 10, "steps": [20, 10], "stages": [[1.0, 2.0]]}, "must increase"),
    ({"every": 10, "steps": [10], "stages": [[float("nan")]]}, "not finite"),
    ({"every": 10, "steps": [10]}, "not a stage-loss log"),
])
def test_a_broken_log_is_refused_in_one_line(tmp_path, broken, message):
  path = tmp_path / "log.json"
  path.write_text(json.dumps(broken))
  with pytest.raises(UserError, match=message):
    stage_losses.read(path)


def test_figure_4_draws_the_first_middle_and_last_stage_of_each_run(tmp_path):
  rng = np.random.default_rng(0)
  runs = {}
  for variant, floor in (("full", 0.2), ("decoding", 0.1)):
    log = stage_losses.StageLosses.empty(every=50, stages=8)
    for step in range(50, 1001, 50):
      log = log.append(step, floor + rng.uniform(0, 1, 8) / step)
    (tmp_path / f"{variant}.json").write_text(log.to_json())
    runs[variant] = stage_losses.read(tmp_path / f"{variant}.json")
  path = tmp_path / "fig4.png"
  series = stage_losses.figure_4(runs, path)
  assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 10_000
  assert list(series) == ["full", "decoding"]
  for variant, drawn in series.items():
    assert sorted(drawn) == [1, 4, 8]
    for stage, (steps, values) in drawn.items():
      assert steps == runs[variant].steps and values == runs[variant].stages[stage - 1]
  runs["full"] = stage_losses.StageLosses.empty(every=50, stages=3).append(50, [1, 1, 1])
  with pytest.raises(UserError, match="3 and 8 stages"):
    stage_losses.figure_4(runs, path)


def test_the_trainer_refuses_a_zero_logging_interval_in_one_line(tmp_path):
  result = _run("scripts/train_r2i.py", "--dataset", f"folder:{tmp_path}",
                "--stage-loss-every", "0", "--output", str(tmp_path / "run"))
  _one_line_error(result, "--stage-loss-every must be positive")


def test_convergence_reads_how_low_how_fast_and_how_noisy_a_curve_ends():
  steps = tuple(range(10, 1010, 10))
  smooth = tuple(0.1 + np.exp(-step / 100.0) for step in steps)
  reading = stage_losses.convergence(steps, smooth)
  assert reading["end"] == pytest.approx(0.1, abs=1e-3)
  # within 10 % of the end (0.1001): exp(-s / 100) <= 0.0101 from s = 459.6 on
  assert reading["reached"] == 460
  noisy = tuple(value + (0.01 if index % 2 else -0.01) for index, value in enumerate(smooth))
  assert stage_losses.convergence(steps, noisy)["variation"] == pytest.approx(0.01, rel=0.05)
  assert reading["variation"] < 1e-4
