"""Shared test fixtures: where the read-only shared data lives, and small images."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# Fixtures of the model packages live beside their tests.
pytest_plugins = ["tests.deepsic_fixtures", "tests.r2i_fixtures"]

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
SHARED_ANCHORS = REPO_ROOT.parent / "shared" / "anchors"
# Hypothesis draws the same inputs on every run, from this seed, so that CI never passes or
# fails by chance; HYPOTHESIS_SEED=N draws others. The report header names the seed in use.
HYPOTHESIS_SEED = int(os.environ.get("HYPOTHESIS_SEED", "0"))


def pytest_report_header() -> str:
  return f"hypothesis seed: {HYPOTHESIS_SEED} (HYPOTHESIS_SEED=N draws other inputs)"


@pytest.fixture(scope="session")
def kodak_dir() -> Path:
  path = SHARED_DATA / "kodak"
  if not (path / "kodim01.png").is_file():
    pytest.skip(f"Kodak not found at {path} (the shared data folder beside the repo)")
  return path


@pytest.fixture(scope="session")
def anchors_dir() -> Path:
  if not SHARED_ANCHORS.is_dir():
    pytest.skip(f"anchors not found at {SHARED_ANCHORS}")
  return SHARED_ANCHORS


def smooth_image(height: int, width: int, seed: int = 0) -> np.ndarray:
  """A photo-like uint8 RGB image: smooth gradients plus texture, so codecs behave."""
  rng = np.random.default_rng(seed)
  y, x = np.mgrid[0:height, 0:width].astype(np.float64)
  base = np.stack([128 + 90 * np.sin(x / 17.0 + c) * np.cos(y / 23.0 - c) for c in range(3)], -1)
  noise = rng.normal(0, 12, (height, width, 3))
  return np.clip(base + noise, 0, 255).astype(np.uint8)


def write_image_folder(folder: Path, counts: dict) -> Path:
  """An ImageNet-layout folder of smooth JPEGs: `counts[split]` images of one class each."""
  from PIL import Image  # pylint: disable=import-outside-toplevel
  for split, count in counts.items():
    (folder / split / "n01").mkdir(parents=True)
    for index in range(count):
      Image.fromarray(smooth_image(70, 80, seed=index)).save(
          folder / split / "n01" / f"{index}.JPEG", "JPEG")
  return folder
