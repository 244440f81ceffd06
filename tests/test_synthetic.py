"""Tests for deepsic_tf.synthetic: the procedural offline default for DeepSIC training."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from compression_eval.datasets import ClassificationInfo, classification_pipeline
from deepsic_tf import synthetic
from deepsic_tf.synthetic import SYNTHETIC_CLASS_NAMES, generate, synthetic_dataset

NUM_CLASSES = len(SYNTHETIC_CLASS_NAMES)


@pytest.fixture(scope="module")
def sample() -> tuple[np.ndarray, np.ndarray]:
  return generate(300, size=48, seed=3)


def test_class_names_are_ten_distinct_names():
  assert len(SYNTHETIC_CLASS_NAMES) == 10
  assert len(set(SYNTHETIC_CLASS_NAMES)) == 10


@pytest.mark.parametrize("num_images", [0, 1, 7, 300])
def test_shapes_dtypes_and_balanced_labels(num_images):
  images, labels = generate(num_images, size=32, seed=0)
  assert images.shape == (num_images, 32, 32, 3) and images.dtype == np.uint8
  assert labels.shape == (num_images,) and labels.dtype == np.int64
  assert np.all((labels >= 0) & (labels < NUM_CLASSES))
  counts = np.bincount(labels, minlength=NUM_CLASSES)
  assert counts.max() - counts.min() <= 1


def test_labels_are_shuffled_not_cyclic(sample):
  _, labels = sample
  assert not np.array_equal(labels, np.arange(labels.size) % NUM_CLASSES)


def test_same_seed_same_arrays_other_seed_other_images(sample):
  images, labels = generate(300, size=48, seed=3)
  np.testing.assert_array_equal(images, sample[0])
  np.testing.assert_array_equal(labels, sample[1])
  other, _ = generate(300, size=48, seed=4)
  assert not np.array_equal(other, images)


def test_no_two_images_are_equal(sample):
  images, _ = sample
  assert len({image.tobytes() for image in images}) == len(images)


def test_images_are_not_trivial(sample):
  images, labels = sample
  pixels = images.reshape(len(images), -1, 3).astype(np.float64)
  assert pixels.std(axis=1).mean(axis=1).min() > 5.0
  assert pixels.min() < 30 and pixels.max() > 225
  # Every image shows its pattern in (at least) two colours: the darkest and the
  # brightest fifth of its pixels differ clearly, not just by noise.
  order = np.argsort(pixels.mean(axis=2), axis=1)[..., None]
  fifth = pixels.shape[1] // 5
  dark = np.take_along_axis(pixels, order[:, :fifth], 1).mean(1)
  bright = np.take_along_axis(pixels, order[:, -fifth:], 1).mean(1)
  contrast = np.linalg.norm(bright - dark, axis=1)
  for label, name in enumerate(SYNTHETIC_CLASS_NAMES):
    assert contrast[labels == label].min() > 15.0, name


def _features(images: np.ndarray) -> np.ndarray:
  """Translation- and rotation-blind statistics: power per radius, its angular
  concentration, and the spread of gradient magnitudes."""
  grey = images.astype(np.float64).mean(-1)
  grey -= grey.mean(axis=(1, 2), keepdims=True)
  size = grey.shape[-1]
  power = np.abs(np.fft.rfft2(grey)) ** 2
  fy, fx = np.fft.fftfreq(size)[:, None], np.fft.rfftfreq(size)[None, :]
  radius = np.hypot(fy, fx)
  ring = np.minimum((radius * 16).astype(int), 7)
  sector = np.minimum((np.arctan2(fy, fx) % np.pi / np.pi * 12).astype(int), 11)
  total = power.sum(axis=(1, 2))[:, None] + 1e-9
  radial = np.stack([power[:, ring == b].sum(1) for b in range(8)], 1) / total
  angular = np.stack([power[:, (sector == b) & (radius > 0.03)].sum(1) for b in range(12)], 1)
  angular = -np.sort(-angular / (angular.sum(1, keepdims=True) + 1e-9), axis=1)
  gy, gx = np.gradient(grey, axis=(1, 2))
  magnitude = np.hypot(gy, gx).reshape(len(grey), -1)
  magnitude /= magnitude.mean(1, keepdims=True) + 1e-9
  spread = np.quantile(magnitude, [0.25, 0.5, 0.75, 0.9, 0.99], axis=1).T
  return np.concatenate([np.log(radial + 1e-6), angular, spread], 1)


def _softmax_regression(x: np.ndarray, y: np.ndarray, steps: int = 300) -> np.ndarray:
  """Weights (with a bias row) fitted by full-batch gradient descent."""
  x = np.concatenate([x, np.ones((len(x), 1))], 1)
  weights = np.zeros((x.shape[1], NUM_CLASSES))
  onehot = np.eye(NUM_CLASSES)[y]
  for _ in range(steps):
    logits = x @ weights
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)
    weights -= 0.5 * x.T @ (probabilities - onehot) / len(x)
  return weights


def test_classes_are_learnable_from_simple_features():
  # If the classes were indistinguishable, a linear model on these features would be
  # near 10%; the DeepSIC classifier head needs labels it can actually learn.
  train_images, train_labels = generate(1000, size=64, seed=11)
  test_images, test_labels = generate(500, size=64, seed=12)
  train, test = _features(train_images), _features(test_images)
  mean, std = train.mean(0), train.std(0) + 1e-9
  weights = _softmax_regression((train - mean) / std, train_labels)
  test = np.concatenate([(test - mean) / std, np.ones((len(test), 1))], 1)
  accuracy = np.mean((test @ weights).argmax(1) == test_labels)
  print(f"simple-feature top-1 on held-out synthetic images: {accuracy:.3f}")
  assert accuracy > 0.4


def test_dataset_splits_info_and_disjointness():
  # Equal sizes, so that splits drawn from one seed stream would come out identical.
  train, train_info = synthetic_dataset("train", num_images=100, size=32)
  val, val_info = synthetic_dataset("val", num_images=100, size=32)
  assert train_info == ClassificationInfo(10, SYNTHETIC_CLASS_NAMES, 100)
  assert val_info == ClassificationInfo(10, SYNTHETIC_CLASS_NAMES, 100)
  assert train.element_spec == (
      tf.TensorSpec((32, 32, 3), tf.uint8), tf.TensorSpec((), tf.int64))
  train_images = {image.tobytes() for image, _ in train.as_numpy_iterator()}
  val_images = [image.tobytes() for image, _ in val.as_numpy_iterator()]
  assert len(train_images) == 100 and len(val_images) == 100
  assert train_images.isdisjoint(val_images)


def test_dataset_is_deterministic_and_seeded():
  first, _ = synthetic_dataset("val", num_images=20, size=32, seed=5)
  again, _ = synthetic_dataset("val", num_images=20, size=32, seed=5)
  other, _ = synthetic_dataset("val", num_images=20, size=32, seed=6)
  images = [image for image, _ in first.as_numpy_iterator()]
  np.testing.assert_array_equal(images, [image for image, _ in again.as_numpy_iterator()])
  assert not np.array_equal(images, [image for image, _ in other.as_numpy_iterator()])


def test_default_splits_hold_what_their_info_says(monkeypatch):
  """The default val split is 1000 distinct 96x96 images, 100 a class, as its info says;
  train asks the renderer for 4000 (rendering them is the training job's work, not a test's)."""
  dataset, info = synthetic_dataset("val")
  images, labels = (array.numpy() for array in next(iter(dataset.batch(2000))))
  assert info.num_examples == len(images) == 1000
  assert images.shape == (1000, 96, 96, 3) and images.dtype == np.uint8
  assert np.bincount(labels, minlength=NUM_CLASSES).tolist() == [100] * NUM_CLASSES
  assert len({image.tobytes() for image in images}) == 1000
  requested = []
  render = synthetic.generate

  def few(count: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    requested.append((count, size))
    return render(NUM_CLASSES, size, seed)

  monkeypatch.setattr(synthetic, "generate", few)
  _, train_info = synthetic_dataset("train")
  assert requested == [(4000, 96)] and train_info.num_examples == 4000


def test_unknown_split_raises():
  with pytest.raises(ValueError, match="split"):
    synthetic_dataset("test")


@pytest.mark.parametrize("training", [True, False])
def test_plugs_into_classification_pipeline(training):
  dataset, _ = synthetic_dataset("train", num_images=40, size=96)
  batches = classification_pipeline(
      dataset, patch_size=64, batch_size=16, training=training, seed=0)
  images, labels = next(iter(batches))
  assert images.shape == (16, 64, 64, 3) and images.dtype == tf.float32
  assert labels.shape == (16,) and labels.dtype == tf.int64
  assert 0.0 <= float(tf.reduce_min(images)) and float(tf.reduce_max(images)) <= 1.0
  assert float(tf.math.reduce_std(images)) > 0.02
  assert set(labels.numpy()) <= set(range(NUM_CLASSES))
