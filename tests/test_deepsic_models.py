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
  # The rate is what range coding the rounded B-bit codes costs: -log2 of the prior's mass
  # at each code (its noisy density at an integer is the mass of that bin), per image.
  codes = model.quantizer.quantize(model.analysis(images, training=False)).numpy()
  low, high = model.quantizer.levels
  assert codes.min() >= low and codes.max() <= high
  expected = -np.log2(model.prior.prob(codes).numpy()).sum(axis=(1, 2, 3))
  np.testing.assert_allclose(bits.numpy(), expected, rtol=1e-5)
  # Gibbs' inequality: no code spends fewer bits than the codes' own empirical entropy.
  for image_codes, image_bits in zip(codes, bits.numpy()):
    entropy = 0.0
    for channel in image_codes.reshape(-1, TINY["bottleneck_channels"]).T:
      counts = np.unique(channel, return_counts=True)[1]
      entropy -= np.sum(counts * np.log2(counts / channel.size))
    assert image_bits >= entropy


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
  """30 steps on one batch clearly beat the untrained model on it: the head learns its 8
  labels and the whole loss falls (seeds 0-2: cross-entropy 0.08-0.12, loss x0.88)."""
  model = tiny_model("post")
  model.compile(optimizer=tf.keras.optimizers.Adam(1e-2))
  images = tf.random.uniform((8, 32, 32, 3), seed=1)
  labels = tf.constant([0, 1, 2, 3, 4, 0, 1, 2], tf.int64)
  before = model.evaluate(images, labels, batch_size=8, verbose=0, return_dict=True)
  assert before["cross_entropy"] == pytest.approx(math.log(5), abs=0.1)  # chance: 5 classes
  dataset = tf.data.Dataset.from_tensors((images, labels)).repeat()
  history = model.fit(dataset, steps_per_epoch=15, epochs=2, verbose=0).history
  after = model.evaluate(images, labels, batch_size=8, verbose=0, return_dict=True)
  assert after["cross_entropy"] < 0.5 and after["top1"] == 1.0
  assert after["loss"] < 0.95 * before["loss"]
  assert history["loss"][1] < history["loss"][0]
  for key in ("bpp", "psnr", "cross_entropy", "top1", "top5"):
    assert key in history


@pytest.mark.parametrize("rate_estimate", ["noise", "rounded"])
def test_training_charges_the_rate_of_the_code_the_config_names(rate_estimate):
  model = tiny_model("pre", rate_estimate=rate_estimate)
  images = tf.random.stateless_uniform((2, 32, 32, 3), seed=(1, 2))
  lattice = model.quantizer.to_lattice(model.analysis(images, training=True))
  _, rounded_bits = model.entropy_model()(lattice, training=False)
  with tf.GradientTape() as tape:
    _, bits, _ = model._code(images, training=True)  # pylint: disable=protected-access
    total = tf.reduce_sum(bits)
  gradient = tape.gradient(total, model.analysis.trainable_variables[0])
  assert gradient is not None and float(tf.reduce_max(tf.abs(gradient))) > 0
  _, again, _ = model._code(images, training=True)  # pylint: disable=protected-access
  if rate_estimate == "rounded":
    # The rounded code's bits exactly, the same at every call, with a straight-through
    # gradient into the feature extractor.
    np.testing.assert_allclose(bits.numpy(), rounded_bits.numpy(), rtol=1e-5)
    np.testing.assert_allclose(again.numpy(), bits.numpy(), rtol=1e-5)
  else:
    # A fresh noise draw at every call.
    assert np.all(np.abs(again.numpy() - bits.numpy()) > 1e-3)
  with pytest.raises(ValueError, match="rate_estimate"):
    DeepSICConfig(rate_estimate="exact")


def test_config_validates_and_reserves_label_bits():
  assert DeepSICConfig(architecture="pre", num_classes=1000).label_bits == 10
  assert DeepSICConfig(architecture="post", num_classes=1000).label_bits == 0
  with pytest.raises(ValueError, match="subsampling"):
    DeepSICConfig(subsampling=(3, 2, 2, 1))
  config = DeepSICConfig(architecture="pre", class_names=tuple("abcdefghij"))
  assert DeepSICConfig.from_json(config.to_json()) == config


# The label field is ceil(log2(classes)) bits rounded up to whole bytes: 8 classes need 3
# bits (1 byte), 256 need 8 (1 byte), 257 need 9 (2 bytes), ImageNet's 1000 need 10 (2 bytes);
# a post-semantic file stores none.
@pytest.mark.parametrize("architecture,num_classes,label,expected_bytes", [
    ("post", 1000, 0, 0), ("pre", 8, 7, 1), ("pre", 256, 255, 1), ("pre", 257, 256, 2),
    ("pre", 1000, 999, 2)])
def test_bitstream_round_trip_keeps_every_field(architecture, num_classes, label,
                                                expected_bytes):
  config = DeepSICConfig(architecture=architecture, num_classes=num_classes)
  label_bytes = bitstream.label_bytes_for(config.label_bits)  # what the codec reserves
  assert label_bytes == expected_bytes
  payload = tf.constant(b"\x00\x01payload\xff")
  data = bitstream.pack(123456789, tf.constant(33), tf.constant(65), tf.constant(label),
                        label_bytes, payload)
  assert len(data.numpy()) == 17 + expected_bytes + len(payload.numpy())  # layout: 13 + L + 4
  parsed = bitstream.unpack(data, 123456789, label_bytes, num_classes=num_classes)
  assert (int(parsed.height), int(parsed.width), int(parsed.label)) == (33, 65, label)
  assert parsed.payload.numpy() == payload.numpy()


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
