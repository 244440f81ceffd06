"""DeepSIC's quantiser, bitstream and models: shapes, rates, and what each architecture feeds h."""
from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from deepsic_tf import bitstream
from deepsic_tf.config import DeepSICConfig
from deepsic_tf.quantizer import BBitQuantizer
from tests.deepsic_fixtures import TINY, tiny_model


def test_quantizer_rounding_is_eq1_ceiling_with_2_to_the_b_levels():
  quantizer = BBitQuantizer(6)
  features = tf.constant(np.random.default_rng(0).uniform(-0.999, 0.968, 10_000), tf.float32)
  codes = quantizer.quantize(features).numpy()
  np.testing.assert_array_equal(codes, np.ceil(32 * features.numpy()))
  assert quantizer.levels == (-32, 31)
  extremes = quantizer.quantize(tf.constant([-5.0, 5.0])).numpy()
  assert list(extremes) == [-32, 31]  # clipped to the 6-bit range
  dequantised = quantizer.from_lattice(quantizer.quantize(features)).numpy()
  error = dequantised - features.numpy()
  assert error.min() >= 0 and error.max() < 1 / 32  # Eq. 1: ceiling, step 2^-(B-1)


@pytest.mark.parametrize("subsampling,stride", [((4, 2, 2, 1), 16), ((2, 1, 1, 1), 2),
                                                ((4, 2, 2, 2), 32)])
@pytest.mark.parametrize("architecture", ["pre", "post"])
def test_shapes_and_rate_of_both_architectures(architecture, subsampling, stride):
  model = tiny_model(architecture, subsampling=subsampling)
  assert model.config.total_stride == stride
  images = tf.random.uniform((2, 64, 96, 3))
  reconstruction, bits, logits = model(images, training=False)
  assert reconstruction.shape == images.shape
  assert logits.shape == (2, 5)
  assert model.analysis(images).shape == (2, 64 // stride, 96 // stride, TINY["bottleneck_channels"])
  # The rate is positive and bounded by 6 bits per code element (plus the tails).
  elements = (64 // stride) * (96 // stride) * TINY["bottleneck_channels"]
  assert np.all(bits.numpy() > 0) and np.all(bits.numpy() < 6.5 * elements)


def test_pre_semantic_head_sees_float_features_post_sees_quantised():
  images = tf.random.uniform((1, 32, 32, 3))
  for architecture in ("pre", "post"):
    model = tiny_model(architecture)
    features = model.analysis(images)
    decoded = model.quantizer.from_lattice(tf.round(model.quantizer.to_lattice(features)))
    expected = model.head(features if architecture == "pre" else decoded)
    np.testing.assert_allclose(model(images, training=False)[2].numpy(), expected.numpy(),
                               rtol=1e-5, atol=1e-5)


def test_training_step_lowers_the_loss():
  model = tiny_model("post")
  model.compile(optimizer=tf.keras.optimizers.Adam(1e-2))
  images = tf.random.uniform((8, 32, 32, 3), seed=1)
  labels = tf.constant([0, 1, 2, 3, 4, 0, 1, 2], tf.int64)
  dataset = tf.data.Dataset.from_tensors((images, labels)).repeat()
  history = model.fit(dataset, steps_per_epoch=15, epochs=2, verbose=0).history
  assert history["loss"][1] < history["loss"][0]
  for key in ("bpp", "psnr", "cross_entropy", "top1", "top5"):
    assert key in history


def test_config_validates_and_reserves_label_bits():
  assert DeepSICConfig(architecture="pre", num_classes=1000).label_bits == 10
  assert DeepSICConfig(architecture="post", num_classes=1000).label_bits == 0
  with pytest.raises(ValueError, match="subsampling"):
    DeepSICConfig(subsampling=(3, 2, 2, 1))
  config = DeepSICConfig(architecture="pre", class_names=tuple("abcdefghij"))
  assert DeepSICConfig.from_json(config.to_json()) == config


@pytest.mark.parametrize("label_bytes,label", [(0, 0), (1, 7), (2, 999)])
def test_bitstream_round_trip_keeps_every_field(label_bytes, label):
  payload = tf.constant(b"\x00\x01payload\xff")
  data = bitstream.pack(123456789, tf.constant(33), tf.constant(65), tf.constant(label),
                        label_bytes, payload)
  assert len(data.numpy()) == bitstream.header_size(label_bytes) + len(payload.numpy())
  parsed = bitstream.unpack(data, 123456789, label_bytes, num_classes=1000)
  assert (int(parsed.height), int(parsed.width), int(parsed.label)) == (33, 65, label)
  assert parsed.payload.numpy() == payload.numpy()
  assert math.ceil(math.log2(1000)) <= 8 * 2


@pytest.mark.parametrize("nonlinearity", ["gdn", "relu", "relu-before-norm"])
def test_interpolation_enters_g_as_a_residual_that_starts_at_zero(nonlinearity):
  """The transposed conv is g's main path: the projected bilinear path starts at zero
  (except in the first design, kept for the ablation)."""
  model = tiny_model("post", nonlinearity=nonlinearity)
  last = model.synthesis.get_layer("reconstruction_stage_4")
  kernel = last.projection.kernel.numpy()
  assert np.all(kernel == 0) == (nonlinearity != "relu-before-norm")
  with pytest.raises(ValueError, match="nonlinearity"):
    DeepSICConfig(nonlinearity="tanh")
