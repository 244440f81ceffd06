"""tf.data pipelines from images to fixed-size training and validation patches.

Both papers train on random square crops with random horizontal flips and validate on
center crops. Image files and tfds datasets go through the same crop code, so a model
sees identical augmentation whichever way its data was stored.

Randomness uses stateless ops fed with a per-element seed from `Dataset.random`, so a
given `seed` reproduces the same patches even though `map` runs in parallel (stateful
random ops would hand out their numbers in thread order).
"""
from __future__ import annotations

from typing import Callable, Sequence

import tensorflow as tf


def decode_image(encoded: tf.Tensor) -> tf.Tensor:
  """Decodes JPEG/PNG/GIF/BMP bytes to uint8 (H, W, 3); greyscale becomes RGB."""
  image = tf.io.decode_image(encoded, channels=3, dtype=tf.uint8, expand_animations=False)
  image.set_shape([None, None, 3])
  return image


def decode_files(
    paths: Sequence[str],
    labels: Sequence[int] | None = None,
    *,
    shuffle: bool = False,
    seed: int | None = None,
    decode: bool = True,
) -> tf.data.Dataset:
  """Dataset of uint8 images (or (image, int64 label) pairs) read from `paths`.

  File names are shuffled before reading (cheap, and a new order every epoch), then
  decoded in parallel. `decode=False` leaves the file bytes (scalar strings) for
  `classification_pipeline`, which then decodes only the patch it crops from a JPEG.
  """
  files = tf.constant(list(paths), tf.string)
  dataset = tf.data.Dataset.from_tensor_slices(
      files if labels is None else (files, tf.constant(list(labels), tf.int64))
  )
  if shuffle:
    dataset = dataset.shuffle(max(len(paths), 1), seed=seed, reshuffle_each_iteration=True)
  read = (lambda path: decode_image(tf.io.read_file(path))) if decode else tf.io.read_file
  return dataset.map(
      lambda *element: _with_image(_joined(element), read), num_parallel_calls=tf.data.AUTOTUNE
  )


def _joined(args: tuple) -> tf.Tensor | tuple:
  """Undoes `Dataset.map` spreading a tuple element over the mapped function's arguments."""
  return args[0] if len(args) == 1 else args


def _with_image(element: tf.Tensor | tuple, function: Callable) -> tf.Tensor | tuple:
  """Applies `function` to the image of an element, an image or (image, label, ...)."""
  if isinstance(element, tuple):
    return (function(element[0]), *element[1:])
  return function(element)


def _repeated_labels(element: tf.Tensor | tuple, count: int) -> tf.Tensor | tuple:
  """Repeats the rest of an element `count` times beside its stacked patches."""
  if isinstance(element, tuple):
    return (element[0], *(tf.repeat(part[tf.newaxis], count, axis=0) for part in element[1:]))
  return element


def _cover(image: tf.Tensor, size: int) -> tf.Tensor:
  """Scales `image` up, keeping its aspect ratio, until both sides are >= `size`."""
  shape = tf.cast(tf.shape(image)[:2], tf.float32)
  scale = size / tf.reduce_min(shape)

  def enlarge() -> tf.Tensor:
    target = tf.maximum(tf.cast(tf.round(shape * scale), tf.int32), size)
    resized = tf.image.resize(image, target, method=tf.image.ResizeMethod.BILINEAR)
    return tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8)

  return tf.cond(scale > 1.0, enlarge, lambda: image)


def _random_crop(image: tf.Tensor, size: int, seed: tf.Tensor) -> tf.Tensor:
  return tf.image.stateless_random_crop(_cover(image, size), [size, size, 3], seed)


def random_patch(image: tf.Tensor, size: int, seed: tf.Tensor) -> tf.Tensor:
  """A random `size` x `size` crop of `image`, flipped left-right with probability 1/2."""
  crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
  return tf.image.stateless_random_flip_left_right(_random_crop(image, size, crop_seed),
                                                   flip_seed)


def random_patch_of_file(encoded: tf.Tensor, size: int, seed: tf.Tensor) -> tf.Tensor:
  """A random patch, as `random_patch`, of an encoded image; a JPEG decodes the patch alone.

  Decoding only the crop window (`decode_and_crop_jpeg`) skips the inverse DCT and
  colour conversion of the rest of the image: with 64x64 patches of 224x224 JPEGs the
  input pipeline then keeps up with training on two cores. Other formats, and JPEGs
  smaller than the patch, are decoded whole (and enlarged) as before.
  """
  crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))

  def whole() -> tf.Tensor:
    return _random_crop(decode_image(encoded), size, crop_seed)

  def jpeg() -> tf.Tensor:
    shape = tf.io.extract_jpeg_shape(encoded)[:2]

    def window() -> tf.Tensor:
      fraction = tf.random.stateless_uniform([2], crop_seed)
      offsets = tf.cast(fraction * tf.cast(shape - size + 1, tf.float32), tf.int32)
      return tf.io.decode_and_crop_jpeg(encoded, tf.concat([offsets, [size, size]], 0),
                                        channels=3)

    return tf.cond(tf.reduce_all(shape >= size), window, whole)

  patch = tf.cond(tf.io.is_jpeg(encoded), jpeg, whole)
  patch.set_shape([size, size, 3])
  return tf.image.stateless_random_flip_left_right(patch, flip_seed)


def random_patches(image: tf.Tensor, size: int, count: int, seed: tf.Tensor) -> tf.Tensor:
  """`count` independent `random_patch`es of one image, stacked: (count, size, size, 3).

  Small patches (R2I trains on 32x32) would otherwise cost one JPEG decode each.
  """
  seeds = tf.random.experimental.stateless_split(seed, count)
  return tf.map_fn(lambda one: random_patch(image, size, one), seeds,
                   fn_output_signature=tf.TensorSpec([size, size, 3], image.dtype))


def center_patch(image: tf.Tensor, size: int) -> tf.Tensor:
  """The central `size` x `size` crop of `image` (enlarged first if smaller)."""
  image = _cover(image, size)
  height, width = tf.shape(image)[0], tf.shape(image)[1]
  return tf.image.crop_to_bounding_box(
      image, (height - size) // 2, (width - size) // 2, size, size
  )


def classification_pipeline(
    dataset: tf.data.Dataset,
    *,
    patch_size: int,
    batch_size: int,
    training: bool = True,
    shuffle_buffer: int = 0,
    seed: int | None = None,
    repeat: bool = False,
    dtype: tf.DType = tf.float32,
    patches_per_image: int = 1,
) -> tf.data.Dataset:
  """Batches of patches from a dataset of uint8 images or (image, label, ...) tuples.

  Args:
    dataset: e.g. from `classification_dataset` (tfds or folder) or `decode_files`:
      uint8 images, or encoded image files (then decoded here, patch by patch for JPEGs).
    patch_size: side of the square patches.
    batch_size: patches per batch; training drops the last partial batch so that every
      step sees the same shape, validation keeps it so that every image counts.
    training: random crop and flip; False gives deterministic center crops.
    shuffle_buffer: decoded examples to shuffle over (training only; 0 keeps the order,
      for sources that are shuffled already).
    seed: makes shuffling, crops and flips reproducible; None varies them run to run.
    repeat: loop over the data forever, reshuffling each pass.
    dtype: tf.uint8 for 0..255 or tf.float32 for [0, 1].
    patches_per_image: training crops taken from each decoded image (labels repeated);
      they are shuffled among the patches of about 64 images before batching.
  """
  if patches_per_image < 1:
    raise ValueError("patches_per_image must be at least 1")
  if dtype not in (tf.uint8, tf.float32):
    raise ValueError(f"dtype must be tf.uint8 or tf.float32, not {dtype}")
  if training and shuffle_buffer > 0:
    dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
  if repeat:
    dataset = dataset.repeat()

  def finish(patch: tf.Tensor) -> tf.Tensor:
    return tf.image.convert_image_dtype(patch, dtype)

  image_spec = dataset.element_spec[0] if isinstance(dataset.element_spec, tuple) else (
      dataset.element_spec)
  encoded = image_spec.dtype == tf.string  # file bytes (decode_files(decode=False))

  def decoded(image: tf.Tensor) -> tf.Tensor:
    return decode_image(image) if encoded else image

  def patches(image: tf.Tensor, pair: tf.Tensor) -> tf.Tensor:
    if encoded and patches_per_image == 1:
      return random_patch_of_file(image, patch_size, pair)[tf.newaxis]
    return random_patches(decoded(image), patch_size, patches_per_image, pair)

  if training:
    seeds = tf.data.Dataset.random(seed=seed).batch(2)
    dataset = tf.data.Dataset.zip((dataset, seeds)).map(
        lambda element, pair: _repeated_labels(_with_image(
            element, lambda image: finish(patches(image, pair))), patches_per_image),
        num_parallel_calls=tf.data.AUTOTUNE,
    ).unbatch()
    if patches_per_image > 1:
      dataset = dataset.shuffle(64 * patches_per_image, seed=seed, reshuffle_each_iteration=True)
  else:
    dataset = dataset.map(
        lambda *element: _with_image(
            _joined(element), lambda image: finish(center_patch(decoded(image), patch_size))
        ),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
  return dataset.batch(batch_size, drop_remainder=training).prefetch(tf.data.AUTOTUNE)


def patch_pipeline(
    paths: Sequence[str],
    labels: Sequence[int] | None = None,
    *,
    patch_size: int,
    batch_size: int,
    training: bool = True,
    seed: int | None = None,
    repeat: bool = False,
    dtype: tf.DType = tf.float32,
) -> tf.data.Dataset:
  """Batches of patches (with int64 labels if given) straight from image files.

  The file list is shuffled before decoding, which is why no shuffle buffer of decoded
  images is needed here. Arguments are as in `classification_pipeline`.
  """
  images = decode_files(paths, labels, shuffle=training, seed=seed)
  return classification_pipeline(
      images, patch_size=patch_size, batch_size=batch_size, training=training, seed=seed,
      repeat=repeat, dtype=dtype,
  )
