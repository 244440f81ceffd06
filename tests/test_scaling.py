"""The scaling study's parts (benchmarks/scaling.py, docs/scaling.md): FLOP counts, the
Table 2 measure, the fits and their intervals, and the plan for the missing points."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import tensorflow as tf

from benchmarks import scaling
from tests.conftest import REPO_ROOT


def test_the_profiler_counts_a_convolution_and_its_gradients_as_by_hand():
  conv = tf.keras.layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False)
  conv.build((None, 32, 32, 8))
  images = tf.TensorSpec((4, 32, 32, 8))
  forward = scaling.graph_flops(conv, images)
  assert forward == 2 * 4 * 16 * 16 * (3 * 3 * 8) * 16  # 2 k^2 C_in C_out an output pixel
  # Backward: the kernel's and the input's gradients, each a convolution as costly, plus
  # the sum the loss takes (one FLOP an output element).
  step = scaling.graph_flops(scaling.training_step(
      lambda x: tf.reduce_sum(conv(x)), lambda: conv.trainable_variables), images)
  assert 3 * forward <= step <= 3 * forward + 4 * 16 * 16 * 16
  # A transposed convolution costs 2 k^2 C_in C_out an input pixel.
  upsample = tf.keras.layers.Conv2DTranspose(16, 3, strides=2, padding="same", use_bias=False)
  upsample.build((None, 8, 8, 8))
  assert (scaling.graph_flops(upsample, tf.TensorSpec((4, 8, 8, 8)))
          == 2 * 4 * 8 * 8 * (3 * 3 * 8) * 16)


def test_r2i_step_flops_grow_about_fourfold_when_every_width_doubles():
  shape = scaling.STEP_SHAPES["r2i"]
  cpu = scaling.step_flops("r2i", scaling.WIDTHS["r2i/cpu"], shape)
  wide = scaling.step_flops("r2i", scaling.WIDTHS["r2i/2x cpu"], shape)
  # Convolutions between two widths grow 4x; those from RGB, to RGB and to and from the
  # 32-channel code only 2x, so a little under 4x. At 32 crops of 32x32 a step is tens of
  # GFLOPs at these widths, far from both a miscount of stages (8) and of passes (3).
  assert 3.5 < wide / cpu < 4.0
  assert 1e10 < cpu < 2e10


@pytest.mark.parametrize("noise", [0.05, 0.3])
def test_the_fit_recovers_a_known_saturating_curve(noise):
  truth = scaling.Fit("saturating", np.array([12.0, 30.0, 0.7]), np.zeros((3, 3)), 0.0, 1, 0.0)
  x = np.repeat(np.linspace(0.0, 0.6, 5), 2)
  q = np.array([truth.value(v) for v in x]) + noise * np.tile([1.0, -1.0], 5)
  chosen, other, p_value = scaling.choose_fit(x, q)
  assert chosen.form == "saturating" and other.form == "log-linear" and p_value < 0.05
  np.testing.assert_allclose(chosen.params, truth.params, rtol=noise)
  low, high = chosen.interval(2.0)
  assert low <= truth.value(2.0) <= high


def test_points_on_a_line_keep_the_line():
  x = np.repeat(np.linspace(13.9, 14.5, 5), 2)
  q = 3.0 + 10.0 * (x - 13.9) + 0.5 * np.tile([1.0, -1.0], 5)
  chosen, other, p_value = scaling.choose_fit(x, q)
  assert chosen.form == "log-linear" and other.form == "saturating" and p_value >= 0.05
  np.testing.assert_allclose(chosen.params, [3.0, 10.0], atol=1e-6)


def test_the_prediction_interval_widens_with_the_distance_extrapolated():
  x = np.repeat(np.linspace(0.0, 0.6, 4), 2)
  line = scaling.fit(x, 2.0 * x + 0.3 * np.tile([1.0, -1.0], 4), "log-linear")
  widths = [high - low for low, high in (line.interval(d) for d in (0.6, 1.0, 2.0, 4.0))]
  assert all(a < b for a, b in zip(widths, widths[1:]))
  # At the data it is the residual spread, t-scaled, and a little more.
  assert widths[0] > 2 * 1.96 * math.sqrt(line.residual_var)


def test_log_rate_interpolation_meets_both_points_and_is_linear_in_log_rate():
  low, high = (0.25, 24.0), (1.0, 30.0)
  assert scaling.log_rate_interp(0.25, low, high) == pytest.approx(24.0)
  assert scaling.log_rate_interp(1.0, low, high) == pytest.approx(30.0)
  assert scaling.log_rate_interp(0.5, low, high) == pytest.approx(27.0)


def test_the_table_2_measure_is_the_reports():
  rows = {row["approach"]: row for row in json.loads(
      (REPO_ROOT / "reports" / "results.json").read_text())["tables"]["table_2"]["rows"]}
  jpeg = scaling.read_curve("reports/kodak/jpeg.json")
  for name in ("r2i-decoding", "r2i-residual"):
    saving = scaling.jpeg_saving(scaling.read_curve(f"reports/kodak/{name}.json"), jpeg)
    assert saving == pytest.approx(rows[name]["savings_ms-ssim-rgb"], abs=1e-6)


def _point(family: str, width: str, steps: int, seed: int, core_hours: float,
           compute: float) -> scaling.Point:
  return scaling.Point(family, width, steps, seed, 0.0, core_hours, compute, "test")


def test_the_plan_completes_every_width_within_the_budget():
  flops = {"r2i/cpu": 14e9, "r2i/2x cpu": 53e9, "deepsic/cpu": 1.7e9, "deepsic/2x cpu": 5.4e9}
  # The shipped runs' speeds: 0.35 s an R2I step on one thread, 36 ms a DeepSIC step on two
  # cores.
  rates = {"r2i": 0.35 / flops["r2i/cpu"], "deepsic": 0.072 / flops["deepsic/cpu"]}
  runs = scaling.plan_runs(flops, rates, {"r2i": 40.0, "deepsic": 4.0})
  assert sum(run.core_hours for run in runs) <= scaling.BUDGET_CORE_HOURS
  shipped = ([_point("r2i", "cpu", steps, seed, 1.0, 1.0) for steps in (6000, 12000, 18000)
              for seed in (0, 1)]
             + [_point("deepsic", "cpu", steps, 0, 1.0, 1.0) for steps in (4721, 40000)])
  before = scaling.missing(shipped)
  assert [row["complete"] for row in before] == [True, False, False, False]
  planned = [_point(run.family, run.width, run.budget, run.seed, run.core_hours, 1.0)
             for run in runs]
  assert all(row["complete"] for row in scaling.missing(shipped + planned))
  # The 2x budgets reach the compute of the cpu ones they are compared with.
  largest = {run.family: run.budget for run in runs if run.width == "2x cpu"}
  assert largest["r2i"] * flops["r2i/2x cpu"] == pytest.approx(18000 * flops["r2i/cpu"], rel=0.02)
  assert largest["deepsic"] * flops["deepsic/2x cpu"] == pytest.approx(
      40000 * flops["deepsic/cpu"], rel=0.02)
  # R2I's 2x runs continue each other per seed; every command names its width flags.
  r2i = [run for run in runs if run.family == "r2i"]
  assert all("--encoder-filters 64,128,128,256" in run.command for run in r2i)
  assert sum("--init-coder" in run.command for run in r2i) == 4


def test_the_published_study_matches_the_reports():
  study = json.loads((REPO_ROOT / "docs" / "scaling.json").read_text())
  rows = {row["approach"]: row for row in json.loads(
      (REPO_ROOT / "reports" / "results.json").read_text())["tables"]["table_2"]["rows"]}
  shipped = [p for p in study["points"] if p["source"] == "reports/kodak/r2i-decoding.json"]
  assert len(shipped) == 1 and shipped[0]["steps"] == 24000
  assert shipped[0]["quality"] == pytest.approx(rows["r2i-decoding"]["savings_ms-ssim-rgb"],
                                                abs=1e-6), "rerun benchmarks/scaling.py"
  assert study["plan"]["core_hours"] <= scaling.BUDGET_CORE_HOURS
  for row in study["predictions"]:
    assert row["low"] <= row["value"] <= row["high"]
