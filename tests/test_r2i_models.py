"""The binariser, the stages and the four variants of the progressive coder."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from r2i_tf.binarizer import binarize, from_bits, health, to_bits
from r2i_tf.config import VARIANTS, R2IConfig
from tests.conftest import smooth_image
from tests.r2i_fixtures import TINY, tiny_ir2i, tiny_r2i


def _patches(count: int, seed: int = 0) -> tf.Tensor:
  image = smooth_image(32 * count, 32, seed=seed)
  return tf.constant(image.reshape(count, 32, 32, 3).astype(np.float32) / 255.0)


def test_binarizer_expectation_is_x_and_gradient_passes_straight_through():
  tf.random.set_seed(0)
  x = tf.constant(np.linspace(-1.0, 1.0, 9, dtype=np.float32))
  samples = tf.stack([binarize(x, training=True) for _ in range(4000)])
  assert set(np.unique(samples.numpy())) <= {-1.0, 1.0}
  # Standard error of the mean of 4000 +-1 samples is at most 1/sqrt(4000) = 0.016.
  np.testing.assert_allclose(tf.reduce_mean(samples, 0).numpy(), x.numpy(), atol=0.06)
  weights = tf.constant(np.arange(1, 10, dtype=np.float32))
  with tf.GradientTape() as tape:
    tape.watch(x)
    value = tf.reduce_sum(weights * binarize(x, training=True))
  np.testing.assert_array_equal(tape.gradient(value, x).numpy(), weights.numpy())


def test_binarizer_health_is_the_mean_abs_tanh_and_the_share_of_flipped_bits():
  tf.random.set_seed(0)
  saturated = tf.constant([-1.0, 1.0, -0.99999, 0.99999] * 1000)
  abs_tanh, flips = health(saturated, binarize(saturated, training=True))
  assert abs_tanh.numpy() == pytest.approx(1.0, abs=1e-5) and flips.numpy() <= 1e-3
  # A bit flips with probability (1 - |x|) / 2: 0.5 at x = 0, 0.25 at |x| = 0.5 (standard
  # errors of 4000 draws below 0.008).
  for value, expected in ((0.0, 0.5), (-0.5, 0.25), (0.5, 0.25)):
    x = tf.fill([4000], value)
    abs_tanh, flips = health(x, binarize(x, training=True))
    assert abs_tanh.numpy() == pytest.approx(abs(value))
    assert flips.numpy() == pytest.approx(expected, abs=0.03)
    assert health(x, binarize(x, training=False))[1].numpy() == 0.0  # the sign flips nothing


def test_training_reports_each_stages_binarizer_health(tmp_path):
  model = tiny_r2i("full")
  model.compile(optimizer=tf.keras.optimizers.Adam(1e-3))
  patches = _patches(8)
  history = model.fit(patches, batch_size=8, epochs=1, verbose=0,
                      callbacks=[tf.keras.callbacks.CSVLogger(str(tmp_path / "history.csv"))])
  names = [f"{what}_{s}" for what in ("abs_tanh", "flips") for s in range(1, TINY["stages"] + 1)]
  assert set(names) <= set((tmp_path / "history.csv").read_text().splitlines()[0].split(","))
  for s in range(1, TINY["stages"] + 1):
    # In training the flips are the stochastic binariser's: (1 - mean |tanh|) / 2 expected,
    # within 4 standard errors of 1024 bits.
    abs_tanh, flips = history.history[f"abs_tanh_{s}"][0], history.history[f"flips_{s}"][0]
    assert 0.0 < abs_tanh < 1.0 and abs(flips - (1.0 - abs_tanh) / 2.0) < 0.07
  evaluated = model.evaluate(patches, batch_size=8, verbose=0, return_dict=True)
  coded = model.run(2.0 * patches - 1.0, None, training=False)
  for s, activation in enumerate(coded.activations, start=1):
    assert evaluated[f"abs_tanh_{s}"] == pytest.approx(np.abs(activation.numpy()).mean(), rel=1e-5)
    assert evaluated[f"flips_{s}"] == 0.0
  ir2i = tiny_ir2i()
  ir2i.compile(optimizer=tf.keras.optimizers.Adam(1e-3))
  crops = tf.random.uniform((2, 64, 64, 3), seed=0)
  assert set(names) <= set(ir2i.evaluate(crops, verbose=0, return_dict=True))


def test_binarizer_at_test_is_the_sign_and_bits_round_trip():
  x = tf.constant([-0.7, -1e-6, 0.0, 1e-6, 0.9])
  codes = binarize(x, training=False)
  np.testing.assert_array_equal(codes.numpy(), [-1, -1, 1, 1, 1])
  np.testing.assert_array_equal(to_bits(codes).numpy(), [0, 0, 1, 1, 1])
  np.testing.assert_array_equal(from_bits(to_bits(codes)).numpy(), codes.numpy())


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_stage_writes_exactly_128_bits_per_32x32_block(variant):
  model = tiny_r2i(variant)
  codes = model.encode(_patches(5))
  assert codes.shape == (model.config.stages, 5, 2, 2, 32)
  assert np.prod(codes.shape[2:]) == 128 == model.config.bits_per_block
  # The rate a stage adds is the bits it writes over the pixels they code: 128 / 32^2.
  stage_bpp = [codes[stage].numpy().size / (5 * 32 * 32) for stage in range(codes.shape[0])]
  assert stage_bpp == [model.config.bpp_per_stage] * model.config.stages
  assert model.config.bpp_per_stage == 128 / 32**2
  assert set(np.unique(codes.numpy())) <= {-1.0, 1.0}


@pytest.mark.parametrize("variant", VARIANTS)
def test_decoding_the_first_k_codes_gives_the_stage_k_reconstruction(variant):
  model = tiny_r2i(variant)
  patches = _patches(4)
  forward = model(patches, training=False).numpy()
  codes = model.encode(patches)
  for k in (1, model.config.stages):
    decoded = model.decode(codes[:k]).numpy()
    assert decoded.shape == (k, 4, 32, 32, 3)
    np.testing.assert_allclose(decoded, forward[:k], atol=1e-5)


def test_variants_differ_only_in_their_connections():
  links = {}
  for variant in VARIANTS:
    model = tiny_r2i(variant)
    names = [w.name for w in model.trainable_weights]
    links[variant] = (sum("link_encode" in n for n in names), sum("link_decode" in n for n in names))
  stages = TINY["stages"] - 1  # links start at stage 2
  assert links["residual"] == links["prediction"] == (0, 0)
  assert links["decoding"] == (0, 6 * stages)  # five decoder layers and the RGB output
  assert links["full"] == (4 * stages, 6 * stages)


@pytest.mark.parametrize("variant", ["full", "decoding"])
def test_new_links_make_each_stage_the_prediction_variants(variant):
  linked, prediction = tiny_r2i(variant), tiny_r2i("prediction", seed=1)
  for stage in linked.stages[1:]:
    *hidden, output = (stage.encoder_links or []) + stage.decoder_links
    assert len(hidden) == (9 if variant == "full" else 5)
    assert all(not link.kernel.numpy().any() for link in hidden)
    # The RGB-output link copies the previous stage's output, which the stage corrects.
    np.testing.assert_array_equal(output.kernel.numpy()[0, 0], np.eye(3))
  for ours, theirs in zip(linked.stages, prediction.stages):
    for layer, other in zip(ours.encoder + [ours.to_code] + ours.decoder,
                            theirs.encoder + [theirs.to_code] + theirs.decoder):
      other.set_weights(layer.get_weights())
  patches = _patches(4)
  np.testing.assert_allclose(linked(patches).numpy(), prediction(patches).numpy(), atol=1e-5)


def test_residual_encoder_accumulates_while_r2i_predicts_the_image():
  # Same weights: the residual encoder's stage-2 output is the sum of the stage outputs,
  # prediction connections squash that sum with tanh.
  residual, prediction = tiny_r2i("residual"), tiny_r2i("prediction")
  prediction.set_weights(residual.get_weights())
  patches = _patches(2)
  summed = 2.0 * residual(patches).numpy()[1] - 1.0
  squashed = 2.0 * prediction(patches).numpy()[1] - 1.0
  np.testing.assert_allclose(squashed, np.tanh(summed), atol=1e-4)


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_variant_trains_and_lowers_its_loss(variant):
  model = tiny_r2i(variant)
  model.compile(optimizer=tf.keras.optimizers.Adam(3e-3))
  patches = _patches(16, seed=3)
  before = model.evaluate(patches, batch_size=16, verbose=0, return_dict=True)["loss"]
  model.fit(patches, batch_size=16, epochs=30, verbose=0)
  after = model.evaluate(patches, batch_size=16, verbose=0, return_dict=True)["loss"]
  assert after < 0.9 * before, (before, after)


def test_config_validates_and_round_trips_through_json():
  config = R2IConfig(variant="full", encoder_filters=(1, 2, 3, 4), decoder_filters=(5, 6, 7, 8, 9))
  assert R2IConfig.from_json(config.to_json()) == config
  with pytest.raises(ValueError, match="variant"):
    R2IConfig(variant="lstm")
  with pytest.raises(ValueError, match="4 widths"):
    R2IConfig(encoder_filters=(1, 2))

