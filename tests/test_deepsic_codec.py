"""DeepSIC files: round trips of any image, labels, classify, bad files, fresh-process decoding."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from compression_eval.errors import UserError
from deepsic_tf import bitstream
from compression_eval.padding import pad_to_multiple
from deepsic_tf.saved_codec import SavedCodec
from tests.conftest import smooth_image


def _forward_pixels(model, image: np.ndarray) -> np.ndarray:
  """What the model's own forward pass (rounded codes) gives for an image, as uint8."""
  height, width = image.shape[:2]
  padded = pad_to_multiple(tf.constant(image), model.config.total_stride, row_axis=0)
  forward = tf.function(lambda x: model(x, training=False)[0])
  pixels = forward(tf.cast(padded, tf.float32)[tf.newaxis] / 255.0)[0, :height, :width]
  return tf.cast(tf.round(tf.clip_by_value(pixels, 0.0, 1.0) * 255.0), tf.uint8).numpy()


@pytest.mark.parametrize("shape", [(1, 1), (33, 65), (512, 768)])
@pytest.mark.parametrize("architecture", ["pre", "post"])
def test_any_size_round_trips_to_the_forward_pass(codec_modules, tiny_models, architecture, shape):
  module, model = codec_modules[architecture], tiny_models[architecture]
  image = smooth_image(*shape)
  data = module.compress(tf.constant(image))["file"].numpy()
  decoded = module.decompress(tf.constant(data))["image"].numpy()
  assert decoded.shape == image.shape
  np.testing.assert_array_equal(decoded, _forward_pixels(model, image))


def test_pre_semantic_label_travels_in_the_file(codec_modules, tiny_models):
  module, model = codec_modules["pre"], tiny_models["pre"]
  for seed in range(3):
    image = smooth_image(48, 64, seed=seed)
    outputs = module.compress(tf.constant(image))
    data = outputs["file"].numpy()
    features = model.analysis(tf.constant(image, tf.float32)[tf.newaxis] / 255.0)
    expected = int(tf.argmax(model.head(features)[0]))
    assert int(outputs["label"]) == expected
    # The label sits in its reserved byte of the header.
    assert data[bitstream.header_size(0) - 4] == expected
    assert int(module.classify(tf.constant(data))["label"]) == expected
    assert int(module.decompress(tf.constant(data))["label"]) == expected


def test_post_semantic_classify_agrees_with_decode_then_classify(codec_modules, tiny_models):
  module, model = codec_modules["post"], tiny_models["post"]
  for seed in range(3):
    data = module.compress(tf.constant(smooth_image(64, 48, seed=seed)))["file"].numpy()
    decoded = module.decompress(tf.constant(data))
    # Independently: decode the code with the entropy model and run the head on it.
    parsed = bitstream.unpack(tf.constant(data), module._model_id, 0, 5)  # pylint: disable=protected-access
    lattice = module.entropy_model.decompress(parsed.payload[tf.newaxis], [3, 4])
    head_label = int(tf.argmax(model.head(model.quantizer.from_lattice(lattice))[0]))
    assert int(module.classify(tf.constant(data))["label"]) == head_label
    assert int(decoded["label"]) == head_label


def test_file_rate_is_the_entropy_models_estimate_plus_header(codec_modules, tiny_models):
  module, model = codec_modules["post"], tiny_models["post"]
  image = smooth_image(256, 256)
  data = module.compress(tf.constant(image))["file"].numpy()
  _, bits, _ = model(tf.constant(image, tf.float32)[tf.newaxis] / 255.0, training=False)
  payload_bits = 8 * (len(data) - bitstream.header_size(0))
  assert payload_bits == pytest.approx(float(bits[0]), rel=0.02, abs=64)


def test_saved_codec_converts_greyscale_and_rgba_via_images(exported, tmp_path):
  from PIL import Image  # pylint: disable=import-outside-toplevel
  from compression_eval.images import read_rgb8  # pylint: disable=import-outside-toplevel
  codec = SavedCodec(exported["post"])
  Image.fromarray(smooth_image(20, 30)[..., 0], "L").save(tmp_path / "grey.png")
  rgba = np.dstack([smooth_image(20, 30), np.full((20, 30), 128, np.uint8)])
  Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
  for name in ("grey.png", "rgba.png"):
    image = read_rgb8(tmp_path / name)
    decoded = codec.decompress(codec.compress(image))
    assert decoded.image.shape == (20, 30, 3) and decoded.class_name in codec.class_names


def test_bad_files_are_one_line_user_errors(exported):
  codec = SavedCodec(exported["pre"])
  other = SavedCodec(exported["post"])
  data = codec.compress(smooth_image(40, 40))
  flipped = bytearray(data)
  flipped[-1] ^= 0x10
  cases = {
      b"": "truncated or not a DeepSIC file",
      b"x" * 40: "not a DeepSIC file",
      data[:len(data) // 2]: "corrupt or truncated",
      bytes(flipped): "corrupt or truncated",
      data[:4] + b"\x09" + data[5:]: "unsupported format version",
      other.compress(smooth_image(40, 40)): "written by another model",
  }
  for bad, message in cases.items():
    for method in (codec.decompress, codec.classify):
      with pytest.raises(UserError, match=message) as error:
        method(bad)
      assert "\n" not in str(error.value)


def test_missing_or_foreign_model_folder_is_a_user_error(tmp_path):
  with pytest.raises(UserError, match="no DeepSIC codec SavedModel"):
    SavedCodec(tmp_path)
  module = tf.Module()
  module.f = tf.function(lambda: tf.constant(1), input_signature=[])
  tf.saved_model.save(module, str(tmp_path / "other"), signatures={"f": module.f})
  with pytest.raises(UserError, match="not a DeepSIC codec SavedModel"):
    SavedCodec(tmp_path / "other")


def test_fresh_process_with_only_tf_and_tfc_decodes_to_the_forward_pass(
    exported, tiny_models, kodak_dir, tmp_path):
  from compression_eval.images import read_rgb8  # pylint: disable=import-outside-toplevel
  image = read_rgb8(kodak_dir / "kodim23.png")
  compressed = SavedCodec(exported["post"]).compress(image)
  (tmp_path / "kodim23.dsic").write_bytes(compressed)
  script = textwrap.dedent(f"""
      import sys
      import numpy as np
      import tensorflow as tf
      import tensorflow_compression
      assert not any(name.startswith(("deepsic_tf", "compression_eval")) for name in sys.modules)
      codec = tf.saved_model.load({str(exported["post"])!r})
      data = open({str(tmp_path / "kodim23.dsic")!r}, "rb").read()
      out = codec.signatures["decompress"](data=tf.constant(data))
      np.save({str(tmp_path / "decoded.npy")!r}, out["image"].numpy())
  """)
  result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
  assert result.returncode == 0, result.stderr[-3000:]
  decoded = np.load(tmp_path / "decoded.npy")
  np.testing.assert_array_equal(decoded, _forward_pixels(tiny_models["post"], image))
