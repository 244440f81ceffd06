"""The scaling study's parts (benchmarks/scaling.py, docs/scaling.md): FLOP counts, the
Table 2 measure, the fits and their intervals, and the plan for the missing points."""
from __future__ import annotations

import dataclasses
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


def test_a_width_with_too_few_budgets_takes_the_exponent_of_another():
  truth = scaling.Fit("saturating", np.array([5.0, 60.0, 0.7]), np.zeros((3, 3)), 0.0, 1, 0.0)
  x = np.repeat(np.linspace(0.0, 0.5, 3), 2)
  q = np.array([truth.value(v) for v in x]) + 0.2 * np.tile([1.0, -1.0], 3)
  certain = scaling.Fit("saturating", np.array([0.0, 1.0, 0.7]), np.zeros((3, 3)), 0.0, 1, 0.0)
  shared = scaling.fit_shared_exponent(x + 3.0, q, certain)  # x0 differs: alpha carries over
  assert shared.form == scaling.SHARED and shared.dof == 4 and shared.params[2] == 0.7
  np.testing.assert_allclose(shared.params[:2], truth.params[:2], rtol=0.02)
  assert shared.value(5.0) == pytest.approx(truth.value(2.0), abs=0.3)
  # The reference's uncertainty about alpha widens the interval far from the points.
  unsure = dataclasses.replace(certain, covariance=np.diag([0.0, 0.0, 0.01]))
  widths = [high - low for low, high in (scaling.fit_shared_exponent(x + 3.0, q, ref)
                                         .interval(5.0) for ref in (certain, unsure))]
  assert widths[1] > widths[0] + 1.0


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
  # The 2x budgets reach into the compute of the cpu ones they are compared with.
  for family, smallest_cpu in (("r2i", 6000), ("deepsic", 10000)):
    largest = max(run.budget for run in runs if (run.family, run.width) == (family, "2x cpu"))
    assert largest * flops[f"{family}/2x cpu"] > smallest_cpu * flops[f"{family}/cpu"]
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
  assert study["runs"]["measured_core_hours"] <= scaling.BUDGET_CORE_HOURS
  for row in study["predictions"]:
    assert row["low"] <= row["value"] <= row["high"]


def test_measured_runs_become_points_with_their_chains_core_hours(tmp_path, monkeypatch):
  monkeypatch.setattr(scaling, "RUNS_DIR", str(tmp_path))
  flops = {"r2i/2x cpu": 50e9, "deepsic/cpu": 2e9}
  runs = [scaling.PlannedRun("r2i", "2x cpu", budget, 0, f"r2i-{budget}", "", 0.5)
          for budget in (1000, 2000)] + [
              scaling.PlannedRun("deepsic", "cpu", 10000, 1, "deepsic", "", 0.3),
              scaling.PlannedRun("deepsic", "cpu", 20000, 0, "not-run", "", 0.6)]
  for folder, summary in (("r2i-1000", {"wall_seconds": 3600}),
                          ("r2i-2000", {"wall_seconds": 1800}),
                          ("deepsic", {"wall_seconds": 900,
                                       "kodak": {"bpp": 1.0, "psnr-rgb": 30.0}})):
    (tmp_path / folder).mkdir()
    (tmp_path / folder / "summary.json").write_text(json.dumps(summary))
  shipped = "reports/kodak/r2i-decoding.json"
  (tmp_path / "r2i-2000" / "kodak.json").write_text((REPO_ROOT / shipped).read_text())
  jpeg = scaling.read_curve("reports/kodak/jpeg.json")
  points, hours = scaling.measured_points(runs, flops, jpeg, rate=0.5, slope=2.0)
  assert hours == {"r2i-1000": 1.0, "r2i-2000": 0.5, "deepsic": 0.5}  # DeepSIC: two cores
  r2i, deepsic = points
  # The 1,000-step run has no Kodak file: no point, but its hour counts in the chain.
  assert (r2i.steps, r2i.core_hours, r2i.compute) == (2000, 1.5, 2000 * 50e9)
  assert r2i.quality == pytest.approx(scaling.jpeg_saving(scaling.read_curve(shipped), jpeg))
  # Landed at 1 bpp, brought one doubling down to 0.5 bpp along 2 dB a doubling.
  assert (deepsic.seed, deepsic.quality, deepsic.compute) == (1, pytest.approx(28.0), 2e13)
  assert "-1.00 doublings" in deepsic.note


def test_equal_compute_compares_each_wide_budget_with_the_narrow_fit_there():
  line = scaling.Fit("log-linear", np.array([10.0, 4.0]), np.zeros((2, 2)), 0.0, 1, 13.0)
  wide = [scaling.Point("r2i", "2x cpu", 1000, seed, quality, 1.0, 10 ** 13.5, "test")
          for seed, quality in ((0, 9.0), (1, 11.0))]
  narrow = [scaling.Point("r2i", "cpu", steps, 0, 0.0, 1.0, 10 ** x, "test")
            for steps, x in ((1, 13.0), (2, 14.0))]
  row, = scaling.equal_compute(wide + narrow, {"r2i/cpu": line.to_json()})
  assert (row["seeds"], row["quality"]) == (2, 10.0)
  assert row["cpu_fit"] == pytest.approx(12.0) and row["difference"] == pytest.approx(-2.0)
  assert row["inside_cpu_points"]
