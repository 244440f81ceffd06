"""DeepSIC's hyperprior: the integer h_s, round trips, rates, one-thread decoding, --init."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from compression_eval.errors import UserError
from compression_eval.padding import pad_to_multiple
from deepsic_tf import bitstream, hyperprior
from deepsic_tf.saved_codec import SavedCodec
from tests.conftest import smooth_image
from tests.deepsic_fixtures import tiny_model


def _forward(model, image: np.ndarray):
  """(uint8 pixels, bits) of the model's own forward pass on an image (rounded codes)."""
  height, width = image.shape[:2]
  padded = pad_to_multiple(tf.constant(image), model.config.total_stride, row_axis=0)
  pixels, bits, _ = model(tf.cast(padded, tf.float32)[tf.newaxis] / 255.0, training=False)
  pixels = pixels[0, :height, :width]
  return (tf.cast(tf.round(tf.clip_by_value(pixels, 0.0, 1.0) * 255.0), tf.uint8).numpy(),
          float(bits[0]))


def test_integer_synthesis_rounds_the_float_network():
  """The integer h_s computes the float one (transposed convolutions included): indexes
  differ only where the float index sits within the weights' rounding of a half."""
  tf.keras.utils.set_random_seed(1)
  synthesis = hyperprior.hyper_synthesis(code_channels=8, hyper_channels=6)
  for weight in synthesis.weights:
    weight.assign(tf.random.normal(weight.shape) * 0.3)
  side = tf.round(tf.random.normal((2, 3, 5, 6)) * 3)
  rows, cols = 3 * hyperprior.HYPER_STRIDE - 1, 5 * hyperprior.HYPER_STRIDE - 1
  floats = synthesis(side).numpy()[:, :rows, :cols]
  exact = hyperprior.IntegerSynthesis(synthesis, 8, (-32, 31)).parameters(
      side, tf.constant([rows, cols]))
  exact = exact.numpy()
  expected = np.floor(floats + 0.5)
  assert exact.shape == (2, rows, cols, 8)
  assert np.abs(exact - expected).max() <= 1
  assert np.mean(exact != expected) < 0.01
  assert len(np.unique(exact)) > 10  # the indexes vary: the comparison means something


def test_exact_parameters_are_integers_inside_the_scale_table_and_the_lattice():
  parameters = tf.constant([[-3.0, 70.0, 12.0, -40.0, 40.0, 5.0]], tf.float64)
  indexes, means = hyperprior.exact_parameters(parameters, 3, (-32, 31))
  assert indexes.dtype == tf.int32
  np.testing.assert_array_equal(indexes.numpy(), [[0, hyperprior.NUM_SCALES - 1, 12]])
  np.testing.assert_array_equal(means.numpy(), [[-32.0, 31.0, 5.0]])
  indexes, means = hyperprior.exact_parameters(parameters[:, :3], 3, (-32, 31))
  assert means is None


@pytest.mark.parametrize("shape", [(1, 1), (33, 65), (200, 130)])
def test_round_trip_is_the_forward_pass_and_the_file_its_estimate(hyperprior_exported,
                                                                 hyperprior_model, shape):
  codec = SavedCodec(hyperprior_exported)
  image = smooth_image(*shape)
  data = codec.compress(image)
  pixels, bits = _forward(hyperprior_model, image)
  np.testing.assert_array_equal(codec.decompress(data).image, pixels)
  overhead = bitstream.header_size(0) + bitstream.SIDE_LENGTH_BYTES
  # Each of the two range-coded strings may spend up to about two bytes of flushing.
  assert 8 * (len(data) - overhead) == pytest.approx(bits, rel=0.01, abs=40)


def test_side_code_length_beyond_the_payload_is_refused(hyperprior_exported):
  codec = SavedCodec(hyperprior_exported)
  data = bytearray(codec.compress(smooth_image(40, 40)))
  start = bitstream.header_size(0)
  data[start:start + bitstream.SIDE_LENGTH_BYTES] = (2**31 + 5).to_bytes(4, "big")
  resealed = bytes(data[:start - bitstream.CHECKSUM_BYTES]) + bytes(data[start:])
  digest = tf.fingerprint(tf.constant([resealed]))[0, :bitstream.CHECKSUM_BYTES].numpy()
  data[start - bitstream.CHECKSUM_BYTES:start] = bytes(digest)
  with pytest.raises(UserError, match="side code length"):
    codec.decompress(bytes(data))


def test_one_thread_fresh_process_decodes_the_same_pixels(hyperprior_exported, tmp_path):
  image = smooth_image(96, 160, seed=3)
  codec = SavedCodec(hyperprior_exported)
  (tmp_path / "image.dsic").write_bytes(codec.compress(image))
  expected = codec.decompress((tmp_path / "image.dsic").read_bytes()).image
  script = textwrap.dedent(f"""
      import numpy as np
      import tensorflow as tf
      tf.config.threading.set_intra_op_parallelism_threads(1)
      tf.config.threading.set_inter_op_parallelism_threads(1)
      import tensorflow_compression
      codec = tf.saved_model.load({str(hyperprior_exported)!r})
      data = open({str(tmp_path / "image.dsic")!r}, "rb").read()
      np.save({str(tmp_path / "decoded.npy")!r},
              codec.signatures["decompress"](data=tf.constant(data))["image"].numpy())
  """)
  result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
  assert result.returncode == 0, result.stderr[-3000:]
  np.testing.assert_array_equal(np.load(tmp_path / "decoded.npy"), expected)


def test_a_hyperprior_run_starts_from_a_factorized_models_transforms(tmp_path):
  from compression_eval import training  # pylint: disable=import-outside-toplevel
  from deepsic_tf import train  # pylint: disable=import-outside-toplevel
  from deepsic_tf.presets import PRESETS  # pylint: disable=import-outside-toplevel
  source = tiny_model("post", seed=4)
  training.save_model(source, source.config.to_json(), tmp_path / "factorized")
  config = tiny_model("post", entropy_model="hyperprior").config
  model = train.build_model(config, PRESETS["quick"], 10, init=tmp_path / "factorized")
  for part in ("analysis", "synthesis", "head"):
    for ours, theirs in zip(getattr(model, part).weights, getattr(source, part).weights):
      np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
  wider = tiny_model("post", entropy_model="hyperprior", filters=12).config
  with pytest.raises(UserError, match="other widths"):
    train.build_model(wider, PRESETS["quick"], 10, init=tmp_path / "factorized")


def test_serving_export_refuses_a_hyperprior_model_in_one_line(hyperprior_model, tmp_path):
  from deepsic_tf import serving  # pylint: disable=import-outside-toplevel
  with pytest.raises(UserError, match="factorized models only"):
    serving.export(hyperprior_model, tmp_path / "serving")
  assert not (tmp_path / "serving").exists()


def test_entropy_model_only_training_leaves_the_transforms_and_head_as_they_were(tmp_path):
  from compression_eval import training  # pylint: disable=import-outside-toplevel
  from deepsic_tf import train  # pylint: disable=import-outside-toplevel
  from deepsic_tf.presets import PRESETS  # pylint: disable=import-outside-toplevel
  source = tiny_model("post", seed=5)
  training.save_model(source, source.config.to_json(), tmp_path / "factorized")
  config = tiny_model("post", entropy_model="mean-scale").config
  model = train.build_model(config, PRESETS["quick"], 10, init=tmp_path / "factorized",
                            trained="entropy-model")
  frozen = model.analysis.weights + model.synthesis.weights + model.head.weights
  before = {id(weight): weight.numpy().copy() for weight in frozen}
  side_before = [weight.numpy().copy() for weight in model.hyper_synthesis.weights]
  images = tf.random.uniform((4, 32, 32, 3), seed=1)
  model.fit(tf.data.Dataset.from_tensors((images, tf.zeros(4, tf.int32))).repeat(3), verbose=0)
  for weight in frozen:  # batch norm's moving statistics included
    np.testing.assert_array_equal(weight.numpy(), before[id(weight)])
  assert any(np.abs(old - weight.numpy()).max() > 0
             for old, weight in zip(side_before, model.hyper_synthesis.weights))
  with pytest.raises(UserError, match="needs --init"):
    train.build_model(config, PRESETS["quick"], 10, trained="entropy-model")
