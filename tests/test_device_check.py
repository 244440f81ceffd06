"""benchmarks/device_check.py: its --smoke run goes through every stage of the GPU check on
the CPU (train three models, time float32 against mixed precision and XLA, export, decode
in a process without a GPU), and its figures say so."""
from __future__ import annotations

import json
import math

import pytest

from benchmarks.device_check import MODELS, SMOKE, VARIANTS, window_means
from tests.conftest import SHARED_DATA
from tests.test_deepsic_cli import _one_line_error, _run

SCRIPT = "benchmarks/device_check.py"


def test_window_means_are_the_step_losses_means_from_keras_running_means():
  losses = [4.0, 2.0, 3.0, 1.0, 0.5]
  running = [sum(losses[:k + 1]) / (k + 1) for k in range(len(losses))]
  assert window_means(running, 2) == pytest.approx((3.0, 0.75))
  assert window_means(running, 5) == pytest.approx((2.1, 2.1))


def test_a_missing_data_folder_is_one_line(tmp_path):
  _one_line_error(_run(SCRIPT, "--smoke", "--imagenet-dir", str(tmp_path)), "no train/ folder")


def test_smoke_run_trains_compares_exports_and_decodes_the_same_pixels(tmp_path, kodak_dir):
  imagenette = SHARED_DATA / "imagenette"
  if not (imagenette / "train").is_dir():
    pytest.skip(f"Imagenette not found at {imagenette}")
  output = tmp_path / "device_check.json"
  result = _run(SCRIPT, "--smoke", "--output", str(output), "--kodak-dir", str(kodak_dir),
                "--imagenet-dir", str(imagenette), timeout=600)
  assert result.returncode == 0, result.stderr[-2000:]
  figures = json.loads(output.read_text())
  assert (figures["mode"], figures["device"]) == ("smoke", "CPU")
  assert set(figures["models"]) == set(MODELS)
  for name, model in figures["models"].items():
    assert model["steps"] == SMOKE.train_steps, name
    assert math.isfinite(model["step_ms"]) and model["step_ms"] > 0, name
    assert math.isfinite(model["loss_first"]) and math.isfinite(model["loss_last"]), name
    variants = model["variants"]
    assert set(variants) == set(VARIANTS) and "skipped" not in str(variants), name
    assert all("step_ms" in variants[v] or "error" in variants[v] for v in VARIANTS), name
    assert math.isfinite(variants["float32"]["step_ms"]), name
  checks = figures["decode_check"]
  assert {name: check["identical"] for name, check in checks.items()} == dict.fromkeys(MODELS, True)
  assert all(check["bytes"] > 0 for check in checks.values())
