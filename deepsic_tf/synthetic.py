"""Procedural labelled images: the offline default that DeepSIC trains on.

`scripts/train_deepsic.py` must run with no arguments on a machine without internet
or ImageNet, so it needs labelled images it can make itself. This module draws ten
classes of textures (stripes, rings, dots, ...) with random colours, geometry, shading,
1/f grain, blur and sensor noise: enough structure that a small CNN learns the labels
in minutes, and photo-like enough (smooth areas, soft and hard edges, fine texture)
that the codec half learns something too. It is a stand-in that keeps the job
runnable, not a substitute for ImageNet: the training script names the flag that
points it at real data.

Everything comes from one numpy Generator per split, so a seed fixes every pixel.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import tensorflow as tf

from compression_eval.datasets.classification import ClassificationInfo

SYNTHETIC_CLASS_NAMES: tuple[str, ...] = (
    "stripes", "checkerboard", "rings", "blobs", "gradient",
    "dots", "waves", "grid", "triangles", "noise-texture",
)
DEFAULT_SIZES = {"train": 4000, "val": 1000}
# Images rendered at once: bounds the float32 temporaries (about 30 MB each at 96x96)
# whatever `num_images` is. Part of the seed -> pixels contract; changing it changes data.
_CHUNK = 256
# Per split, a separate stream of the seed, so val never repeats train images.
_STREAMS = {"train": 0, "val": 1}

# (rng, n, x, y) -> n fields in [0, 1]; x and y are (1, H, W) pixel offsets from the
# centre, so geometry is in pixels whatever the image size.
_Pattern = Callable[[np.random.Generator, int, np.ndarray, np.ndarray], np.ndarray]


def _uniform(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
  """One parameter per image, shaped (n, 1, 1) to broadcast over (n, H, W) fields."""
  return rng.uniform(low, high, (n, 1, 1)).astype(np.float32)


def _soft_step(distance: np.ndarray, width: np.ndarray | float) -> np.ndarray:
  """0..1 edge from a signed pixel distance; width ~1 px is crisp but not aliased."""
  return 0.5 + 0.5 * np.tanh(distance / width)


def _rotated(
    rng: np.random.Generator, n: int, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
  """Pixel coordinates in a frame turned by a random angle per image."""
  angle = _uniform(rng, 0.0, np.pi, n)
  cos, sin = np.cos(angle), np.sin(angle)
  return x * cos + y * sin, y * cos - x * sin


def _square_wave(
    rng: np.random.Generator, n: int, coordinate: np.ndarray, periods: tuple[float, float]
) -> np.ndarray:
  """Signed ~pixel distance to the edges of a square wave along `coordinate`.

  sin(.) * period / 2pi has slope 1 at its zeros, so `_soft_step` of it gives edges of
  a chosen width in pixels whatever the period.
  """
  period = _uniform(rng, *periods, n)
  phase = _uniform(rng, 0.0, 2 * np.pi, n)
  return np.sin(2 * np.pi * coordinate / period + phase) * period / (2 * np.pi)


def _pink_noise(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
  """Zero-mean, unit-std noise with power ~ 1/f^beta, the spectrum of natural images."""
  fy = np.fft.fftfreq(size)[:, None]
  fx = np.fft.rfftfreq(size)[None, :]
  frequency = np.maximum(np.hypot(fy, fx), 1.0 / size).astype(np.float32)
  amplitude = frequency ** (-_uniform(rng, 1.5, 3.0, n) / 2)
  real, imaginary = rng.standard_normal((2, n, size, fx.size), np.float32) * amplitude
  field = np.fft.irfft2(real + 1j * imaginary, s=(size, size)).astype(np.float32)
  field -= field.mean(axis=(1, 2), keepdims=True)
  return field / field.std(axis=(1, 2), keepdims=True)


def _stripes(rng: np.random.Generator, n: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
  """Parallel bars of random width ratio: one dominant orientation."""
  u, _ = _rotated(rng, n, x, y)
  duty = _uniform(rng, -2.0, 2.0, n)
  return _soft_step(_square_wave(rng, n, u, (8, 24)) - duty, _uniform(rng, 0.5, 2.0, n))


def _checkerboard(rng: np.random.Generator, n: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
  """Alternating squares: two orientations and corners."""
  u, v = _rotated(rng, n, x, y)
  period = _uniform(rng, 12, 32, n)
  product = np.sin(2 * np.pi * u / period) * np.sin(2 * np.pi * v / period)
  return _soft_step(product * period / (2 * np.pi), _uniform(rng, 0.5, 1.5, n))


def _rings(rng: np.random.Generator, n: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
  """Concentric bands around a point inside the image: every orientation at once."""
  half = x.shape[-1] / 2
  cx, cy = _uniform(rng, -0.6 * half, 0.6 * half, n), _uniform(rng, -0.6 * half, 0.6 * half, n)
  radius = np.hypot(x - cx, y - cy)
  return _soft_step(_square_wave(rng, n, radius, (8, 20)), _uniform(rng, 0.5, 2.0, n))


def _blobs(rng: np.random.Generator, n: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
  """Metaballs: a thresholded sum of Gaussians gives rounded, merging shapes."""
  half = x.shape[-1] / 2
  field = np.zeros((n,) + x.shape[1:], np.float32)
  count = rng.integers(3, 8, (n, 1, 1))
  for index in range(7):
    cx, cy = _uniform(rng, -half, half, n), _uniform(rng, -half, half, n)
    sigma = _uniform(rng, 6, 16, n)
    bump = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma**2))
    field += np.where(index < count, bump, 0.0)
  return _soft_step(field - 0.5, _uniform(rng, 0.03, 0.15, n))


def _gradient(rng: np.random.Generator, n: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
  """A smooth ramp, slightly bent: the large flat-ish areas that photos are full of."""
  u, v = _rotated(rng, n, x, y)
  size = x.shape[-1]
  bend = _uniform(rng, -1.0, 1.0, n) * v**2 / size
  middle = _uniform(rng, -0.2, 0.2, n) * size
  return _soft_step(u + bend - middle, _uniform(rng, 0.2, 0.6, n) * size)


def _dots(rng: np.random.Generator, n: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
  """Polka dots on a rotated square lattice: isolated round shapes in a repeat."""
  u, v = _rotated(rng, n, x, y)
  period = _uniform(rng, 10, 24, n)
  offset_u, offset_v = _uniform(rng, 0, 1, n), _uniform(rng, 0, 1, n)
  local_u = ((u / period + offset_u) % 1.0 - 0.5) * period
  local_v = ((v / period + offset_v) % 1.0 - 0.5) * period
  radius = _uniform(rng, 0.18, 0.38, n) * period
  return _soft_step(radius - np.hypot(local_u, local_v), _uniform(rng, 0.5, 1.5, n))


def _waves(rng: np.random.Generator, n: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
  """Continuous-tone sinusoids whose phase wobbles along the crests."""
  u, v = _rotated(rng, n, x, y)
  wobble = _uniform(rng, 0.5, 3.0, n) * np.sin(
      2 * np.pi * v / _uniform(rng, 20, 60, n) + _uniform(rng, 0, 2 * np.pi, n))
  phase = 2 * np.pi * u / _uniform(rng, 10, 30, n) + wobble + _uniform(rng, 0, 2 * np.pi, n)
  return 0.5 + 0.5 * np.sin(phase)


def _grid(rng: np.random.Generator, n: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
  """Thin lines in two directions: mostly flat background with fine edges."""
  u, v = _rotated(rng, n, x, y)
  period = _uniform(rng, 10, 28, n)
  to_line = lambda t: np.abs((t / period + _uniform(rng, 0, 1, n)) % 1.0 - 0.5) * period
  distance = np.minimum(to_line(u), to_line(v))
  return _soft_step(_uniform(rng, 0.5, 1.5, n) - distance, _uniform(rng, 0.4, 1.0, n))


def _triangles(rng: np.random.Generator, n: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
  """2-4 overlapping triangles, painted in order, each in its own tone."""
  half = x.shape[-1] / 2
  field = np.zeros((n,) + x.shape[1:], np.float32)
  count = rng.integers(2, 5, (n, 1, 1))
  for index in range(4):
    cx, cy = _uniform(rng, -0.8 * half, 0.8 * half, n), _uniform(rng, -0.8 * half, 0.8 * half, n)
    # Corners a third of a turn apart, each jittered by under a sixth, stay in
    # counter-clockwise order, so the inside is the positive side of every edge.
    turns = np.arange(3, dtype=np.float32)[:, None, None, None] / 3
    jitter = rng.uniform(-0.08, 0.08, (3, n, 1, 1)).astype(np.float32)
    angles = _uniform(rng, 0, 2 * np.pi, n) + 2 * np.pi * (turns + jitter)
    radius = rng.uniform(0.25 * half, 0.9 * half, (3, n, 1, 1)).astype(np.float32)
    corner_x, corner_y = cx + radius * np.cos(angles), cy + radius * np.sin(angles)
    inside = np.full_like(field, np.inf)
    for start, end in ((0, 1), (1, 2), (2, 0)):
      dx, dy = corner_x[end] - corner_x[start], corner_y[end] - corner_y[start]
      edge = (dx * (y - corner_y[start]) - dy * (x - corner_x[start])) / np.hypot(dx, dy)
      inside = np.minimum(inside, edge)
    cover = np.where(index < count, _soft_step(inside, 0.7), 0.0)
    field += cover * (_uniform(rng, 0.4, 1.0, n) - field)
  return field


def _noise_texture(rng: np.random.Generator, n: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
  """Clouds and marble: 1/f noise squashed to two tones with a random contrast."""
  return 0.5 + 0.5 * np.tanh(_uniform(rng, 0.6, 2.5, n) * _pink_noise(rng, n, x.shape[-1]))


_PATTERNS: tuple[_Pattern, ...] = (
    _stripes, _checkerboard, _rings, _blobs, _gradient,
    _dots, _waves, _grid, _triangles, _noise_texture,
)


def _palette(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
  """Two RGB colours per image, pushed apart so that the pattern stays visible."""
  first, second = rng.uniform(0, 1, (2, n, 3))
  gap = second - first
  distance = np.maximum(np.linalg.norm(gap, axis=1, keepdims=True), 1e-6)
  second = np.clip(first + gap * np.maximum(1.0, 0.45 / distance), 0, 1)
  return first[..., None, None].astype(np.float32), second[..., None, None].astype(np.float32)


def _blur(field: np.ndarray, weight: np.ndarray) -> np.ndarray:
  """Separable [w, 1 - 2w, w] blur of (n, H, W) fields, edges replicated.

  Blurring the one-channel pattern rather than the RGB image is three times cheaper and
  looks the same: it is where the edges are.
  """
  padded = np.pad(field, ((0, 0), (1, 1), (1, 1)), mode="edge")
  rows = weight * (padded[:, :-2] + padded[:, 2:]) + (1 - 2 * weight) * padded[:, 1:-1]
  return weight * (rows[:, :, :-2] + rows[:, :, 2:]) + (1 - 2 * weight) * rows[:, :, 1:-1]


def _render(rng: np.random.Generator, labels: np.ndarray, size: int) -> np.ndarray:
  """Pattern, optics, colours, grain, lighting and sensor noise for a chunk of labels."""
  n = labels.size
  y, x = (np.mgrid[:size, :size].astype(np.float32) - (size - 1) / 2)[:, None]
  field = np.empty((n, size, size), np.float32)
  for label, pattern in enumerate(_PATTERNS):
    where = np.flatnonzero(labels == label)
    if where.size:
      field[where] = pattern(rng, where.size, x, y)
  # Optics: some images in focus, some slightly soft.
  field = _blur(field, _uniform(rng, 0.0, 0.25, n))[:, None]
  # Channels-first until the end: numpy broadcasts per-image colours over (n, 3, H, W)
  # several times faster than over a trailing axis of 3.
  first, second = _palette(rng, n)
  image = field * (second - first)
  image += first
  # Textured surfaces: tinted 1/f grain, so that no region is perfectly flat.
  tint = rng.uniform(0.5, 1.5, (n, 3, 1, 1)).astype(np.float32)
  image += (_uniform(rng, 0.01, 0.06, n) * _pink_noise(rng, n, size))[:, None] * tint
  # Lighting: a gentle ramp of brightness across the scene.
  u, _ = _rotated(rng, n, x, y)
  image *= (1 + _uniform(rng, 0.0, 0.5, n) * u / size)[:, None]
  # Sensor noise, uniform rather than Gaussian because drawing it is 2.5x faster.
  noise = rng.random(image.shape, np.float32) - 0.5
  noise *= _uniform(rng, 0.01, 0.05, n)[:, None]
  image += noise
  # Scale, +0.5 and truncate: rounds the non-negative values that clipping leaves.
  image *= 255
  image += 0.5
  return np.clip(image, 0, 255, out=image).astype(np.uint8).transpose(0, 2, 3, 1)


def generate(num_images: int, size: int = 96, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
  """Renders `num_images` labelled images, the same ones for the same arguments.

  Args:
    num_images: how many images; classes are balanced (counts differ by at most one)
      and shuffled, so any prefix of the result is roughly balanced too.
    size: side of the square images in pixels.
    seed: seeds the single numpy Generator everything is drawn from.

  Returns:
    uint8 images (num_images, size, size, 3) and int64 labels (num_images,) indexing
    `SYNTHETIC_CLASS_NAMES`.
  """
  rng = np.random.default_rng(seed)
  labels = rng.permutation(np.arange(num_images) % len(SYNTHETIC_CLASS_NAMES)).astype(np.int64)
  images = np.empty((num_images, size, size, 3), np.uint8)
  for start in range(0, num_images, _CHUNK):
    images[start:start + _CHUNK] = _render(rng, labels[start:start + _CHUNK], size)
  return images, labels


def synthetic_dataset(
    split: str, num_images: int | None = None, size: int = 96, seed: int = 0
) -> tuple[tf.data.Dataset, ClassificationInfo]:
  """The (uint8 image, int64 label) dataset of a split, held in memory.

  Args:
    split: "train" (4,000 images by default) or "val" (1,000); each has its own seed
      stream, so the two never share an image.
    num_images: overrides the split's default size.
    size: side of the square images.
    seed: chooses the data; the same seed gives the same images in every run.
  """
  if split not in _STREAMS:
    raise ValueError(f"split must be one of {sorted(_STREAMS)}, not {split!r}")
  count = DEFAULT_SIZES[split] if num_images is None else num_images
  stream_seed = np.random.SeedSequence([seed, _STREAMS[split]]).generate_state(1)[0]
  images, labels = generate(count, size, int(stream_seed))
  info = ClassificationInfo(len(SYNTHETIC_CLASS_NAMES), SYNTHETIC_CLASS_NAMES, count)
  return tf.data.Dataset.from_tensor_slices((images, labels)), info
