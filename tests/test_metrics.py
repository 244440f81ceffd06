"""Metrics against independent references (scikit-image, TensorFlow) and their invariants."""
from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from compression_eval import metrics
from tests.conftest import smooth_image


def _noisy(image: np.ndarray, sigma: float, seed: int = 1) -> np.ndarray:
  rng = np.random.default_rng(seed)
  return np.clip(image + rng.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("shape", [(64, 80, 3), (200, 177, 3), (33, 45)])
def test_psnr_and_ssim_match_scikit_image(shape):
  original = smooth_image(shape[0], shape[1])
  if len(shape) == 2:
    original = original[..., 0]
  distorted = _noisy(original, 10.0)
  assert metrics.psnr(original, distorted) == pytest.approx(
      peak_signal_noise_ratio(original, distorted, data_range=255), abs=1e-9)
  reference = structural_similarity(
      original, distorted, data_range=255, gaussian_weights=True, sigma=1.5,
      use_sample_covariance=False, channel_axis=-1 if len(shape) == 3 else None)
  assert metrics.ssim(original, distorted) == pytest.approx(reference, abs=1e-9)


def test_ms_ssim_matches_tensorflow():
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  original = smooth_image(256, 257)
  distorted = _noisy(original, 15.0)
  reference = float(tf.image.ssim_multiscale(original, distorted, max_val=255))
  assert metrics.ms_ssim(original, distorted) == pytest.approx(reference, abs=1e-5)


def test_ms_ssim_is_one_on_identical_images_and_falls_with_noise():
  original = smooth_image(192, 256)
  assert metrics.ms_ssim(original, original) == pytest.approx(1.0, abs=1e-12)
  scores = [metrics.ms_ssim(original, _noisy(original, sigma)) for sigma in (2, 5, 10, 20, 40)]
  assert all(a > b for a, b in zip(scores, scores[1:])), scores
  assert scores[-1] < 0.9


@pytest.mark.parametrize("size,scales", [((1, 1), 1), ((10, 300), 1), ((11, 11), 1),
                                         ((22, 40), 2), ((175, 400), 4), ((176, 176), 5)])
def test_ms_ssim_on_small_images_uses_fewer_scales(size, scales):
  assert metrics.ms_ssim_scales(*size) == scales
  original = smooth_image(*size)
  distorted = _noisy(original, 20.0)
  value = metrics.ms_ssim(original, distorted)
  assert metrics.ms_ssim(original, original) == pytest.approx(1.0)
  assert 0.0 <= value < 1.0


def test_luma_is_bt601_and_luma_metrics_see_only_luma():
  image = np.zeros((20, 20, 3), np.uint8)
  image[..., 0] = 255
  assert metrics.luma(image)[0, 0] == pytest.approx(0.299 * 255)
  original = smooth_image(180, 180)
  # Swap in a chroma-only change: equal luma, different colours.
  shifted = original.astype(np.float64)
  shifted[..., 0] += 0.114 * 10 / 0.299
  shifted[..., 2] -= 10
  valid = (shifted >= 0).all(-1) & (shifted <= 255).all(-1)
  shifted[~valid] = original[~valid]
  scores = metrics.all_metrics(original, shifted)
  assert scores["psnr-y"] > scores["psnr-rgb"] + 15
  assert scores["ms-ssim-y"] > scores["ms-ssim-rgb"]


def test_identical_images_give_infinite_psnr_and_shape_mismatch_raises():
  image = smooth_image(16, 16)
  assert math.isinf(metrics.psnr(image, image))
  with pytest.raises(ValueError, match="differ in shape"):
    metrics.psnr(image, image[:8])
  assert metrics.ms_ssim_db(0.99) == pytest.approx(20.0)
