"""Image quality metrics: PSNR, SSIM and MS-SSIM on RGB and on luma.

All metrics take uint8 (or float, on the 0-255 scale) images of any size and compare them
as the papers do: the data range is 255 and RGB results are the mean over the three
channels. SSIM follows Wang et al. (2004): an 11x11 Gaussian window with sigma 1.5,
K1 = 0.01, K2 = 0.03, statistics over the window positions that fit inside the image.
MS-SSIM follows Wang et al. (2003): five scales with weights (0.0448, 0.2856, 0.3001,
0.2363, 0.1333), 2x2 average pooling between scales (odd sizes padded symmetrically).

Small images. Five scales need the coarsest scale to hold one 11x11 window, i.e. a
smallest side of at least 176 pixels. Below that, MS-SSIM uses as many scales as fit
(the weights of those scales, renormalised to sum to one); below 11 pixels it is
single-scale SSIM with the window shrunk to the image (the largest odd size that fits,
sigma scaled with it). A 1x1 image therefore gets the luminance-contrast-structure
formula on one pixel rather than a crash.

Luma is BT.601 Y' = 0.299 R' + 0.587 G' + 0.114 B', full range, kept in floating point.
"""
from __future__ import annotations

import math
from typing import Dict, List, Tuple

import numpy as np
from scipy import ndimage

WINDOW_SIZE = 11
WINDOW_SIGMA = 1.5
K1, K2 = 0.01, 0.03
DATA_RANGE = 255.0
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
BT601_LUMA = (0.299, 0.587, 0.114)


def _as_float(image: np.ndarray) -> np.ndarray:
  """Returns the image as float64 with a channel axis, (H, W, C)."""
  array = np.asarray(image, dtype=np.float64)
  if array.ndim == 2:
    array = array[..., None]
  if array.ndim != 3:
    raise ValueError(f"expected an (H, W) or (H, W, C) image, got shape {array.shape}")
  return array


def _with_pixels(array: np.ndarray) -> np.ndarray:
  """`array` (H, W, C), refused when it has no pixels."""
  if array.shape[0] == 0 or array.shape[1] == 0:
    raise ValueError("images must have at least one pixel")
  return array


def _check_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  a, b = _as_float(a), _as_float(b)
  if a.shape != b.shape:
    raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
  return _with_pixels(a), b


def luma(image: np.ndarray) -> np.ndarray:
  """BT.601 luma of an RGB image on the 0-255 scale, as float64 (H, W)."""
  array = np.asarray(image, dtype=np.float64)
  if array.ndim != 3 or array.shape[-1] != 3:
    raise ValueError(f"luma needs an (H, W, 3) RGB image, got shape {array.shape}")
  return array @ np.asarray(BT601_LUMA)


def mse(a: np.ndarray, b: np.ndarray) -> float:
  a, b = _check_pair(a, b)
  return float(np.mean(np.square(a - b)))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
  """Peak signal-to-noise ratio in dB over all pixels and channels (inf if identical)."""
  error = mse(a, b)
  if error == 0.0:
    return math.inf
  return 10.0 * math.log10(DATA_RANGE**2 / error)


def _window_for(height: int, width: int) -> tuple[int, float]:
  """The Gaussian window (size, sigma) to use on an image of this size."""
  size = min(WINDOW_SIZE, height, width)
  if size % 2 == 0:
    size -= 1
  return size, WINDOW_SIGMA * size / WINDOW_SIZE


# An image at one scale with its local means and local mean squares under the SSIM
# window: one side of SSIM's statistics, the same whatever it is compared with.
Moments = Tuple[np.ndarray, np.ndarray, np.ndarray]


def _blur(x: np.ndarray) -> np.ndarray:
  """Gaussian over the two spatial axes only, the window fitted to x's size (`_window_for`).

  The border is cropped by `_ssim_and_cs`, so what is kept equals a 'valid' correlation
  with the size x size window.
  """
  size, sigma = _window_for(x.shape[0], x.shape[1])
  radius = (size - 1) // 2
  return ndimage.gaussian_filter(x, sigma=(sigma, sigma, 0), truncate=radius / sigma,
                                 mode="reflect")


def _moments(x: np.ndarray) -> Moments:
  return x, _blur(x), _blur(x * x)


def _ssim_and_cs(a: Moments, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Per-channel mean SSIM and mean contrast-structure term, each of shape (C,)."""
  a, mu_a, mean_square_a = a
  radius = (_window_for(a.shape[0], a.shape[1])[0] - 1) // 2
  mu_b = _blur(b)
  var_a = mean_square_a - mu_a * mu_a
  var_b = _blur(b * b) - mu_b * mu_b
  cov = _blur(a * b) - mu_a * mu_b
  c1, c2 = (K1 * DATA_RANGE)**2, (K2 * DATA_RANGE)**2
  cs_map = (2.0 * cov + c2) / (var_a + var_b + c2)
  ssim_map = (2.0 * mu_a * mu_b + c1) / (mu_a**2 + mu_b**2 + c1) * cs_map
  inner = (slice(radius, a.shape[0] - radius), slice(radius, a.shape[1] - radius))
  return ssim_map[inner].mean(axis=(0, 1)), cs_map[inner].mean(axis=(0, 1))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
  """Single-scale SSIM, averaged over channels."""
  a, b = _check_pair(a, b)
  return float(np.mean(_ssim_and_cs(_moments(a), b)[0]))


def ms_ssim_scales(height: int, width: int) -> int:
  """How many MS-SSIM scales an image of this size supports (1 to 5)."""
  smallest = min(height, width)
  if smallest < WINDOW_SIZE:
    return 1
  return min(len(MS_SSIM_WEIGHTS), 1 + int(math.floor(math.log2(smallest / WINDOW_SIZE))))


def _halve(x: np.ndarray) -> np.ndarray:
  """2x2 average pooling, padding an odd row or column symmetrically first."""
  pad = ((0, x.shape[0] % 2), (0, x.shape[1] % 2), (0, 0))
  x = np.pad(x, pad, mode="symmetric")
  return 0.25 * (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2])


def _pyramid(x: np.ndarray) -> List[Moments]:
  """x's moments at every MS-SSIM scale, finest first."""
  levels = [_moments(x)]
  for _ in range(1, ms_ssim_scales(x.shape[0], x.shape[1])):
    levels.append(_moments(_halve(levels[-1][0])))
  return levels


def _ssim_and_ms_ssim(a: List[Moments], b: np.ndarray) -> tuple[float, float]:
  """SSIM and MS-SSIM together: SSIM is MS-SSIM's first scale, so it comes for free."""
  weights = np.asarray(MS_SSIM_WEIGHTS[:len(a)])
  weights = weights / weights.sum()
  product = np.ones(b.shape[-1])
  first_scale_ssim = None
  for level, weight in enumerate(weights):
    ssim_value, cs_value = _ssim_and_cs(a[level], b)
    if first_scale_ssim is None:
      first_scale_ssim = float(np.mean(ssim_value))
    last = level == len(a) - 1
    term = ssim_value if last else cs_value
    product *= np.maximum(term, 0.0)**weight
    if not last:
      b = _halve(b)
  return first_scale_ssim, float(np.mean(product))


def ms_ssim(a: np.ndarray, b: np.ndarray) -> float:
  """Multi-scale SSIM, averaged over channels; see the module docstring for small images."""
  a, b = _check_pair(a, b)
  return _ssim_and_ms_ssim(_pyramid(a), b)[1]


def ms_ssim_db(value: float) -> float:
  """MS-SSIM in decibels, -10 log10(1 - MS-SSIM), as RD plots usually show it."""
  return math.inf if value >= 1.0 else -10.0 * math.log10(1.0 - value)


class Reference:
  """An original image's side of every metric, computed once for all its reconstructions.

  SSIM's local means and mean squares of the original, at every MS-SSIM scale, are two
  of the five Gaussian blurs per scale and do not depend on what it is compared with: a
  codec with many settings (R2I's eight stages) compares many reconstructions with one
  original. The figures are those `all_metrics` gives, to the last bit.
  """

  def __init__(self, original: np.ndarray):
    rgb = _with_pixels(_as_float(original))
    self.shape = rgb.shape
    self._pyramids = {"rgb": _pyramid(rgb), "y": _pyramid(luma(rgb)[..., None])}

  def metrics(self, reconstruction: np.ndarray) -> Dict[str, float]:
    """Every metric the project reports, keyed as in CompressAI's result files."""
    rgb = _as_float(reconstruction)
    if rgb.shape != self.shape:
      raise ValueError(f"images differ in shape: {self.shape} vs {rgb.shape}")
    metrics = {}
    for suffix, b in (("rgb", rgb), ("y", luma(rgb)[..., None])):
      pyramid = self._pyramids[suffix]
      metrics[f"psnr-{suffix}"] = psnr(pyramid[0][0], b)  # the finest scale: the image
      metrics[f"ssim-{suffix}"], metrics[f"ms-ssim-{suffix}"] = _ssim_and_ms_ssim(pyramid, b)
    return metrics


def all_metrics(original: np.ndarray, reconstruction: np.ndarray) -> Dict[str, float]:
  """Every metric the project reports, keyed as in CompressAI's result files."""
  return Reference(original).metrics(reconstruction)
