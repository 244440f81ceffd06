"""The TF Serving export: standard ops only, and the client writes the codec's exact files."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from compression_eval.errors import UserError
from compression_eval.rest import response_outputs
from deepsic_tf import serving
from deepsic_tf.codec import CodecModule, model_id
from deepsic_tf.serving_client import INFO_OUTPUTS, ServingClient
from tests.conftest import smooth_image
from tests.deepsic_fixtures import tiny_model
from tests.serving_helpers import custom_ops, run_in_fresh_process, saved_model_cli, serve_rest


@pytest.fixture(scope="module")
def serving_exports(tiny_models, tmp_path_factory):
  folder = tmp_path_factory.mktemp("deepsic_serving")
  for name, model in tiny_models.items():
    serving.export(model, str(folder / name))
  return {name: folder / name for name in tiny_models}


def test_serving_export_has_no_custom_op_and_the_codec_export_does(serving_exports, exported):
  for path in serving_exports.values():
    assert not custom_ops(path)
  assert {"CreateRangeEncoder", "EntropyEncodeChannel"} <= custom_ops(exported["post"])


@pytest.mark.parametrize("architecture", ["pre", "post"])
def test_client_writes_the_codec_bytes_and_decodes_them_like_the_codec(
    architecture, serving_exports, codec_modules):
  codec = codec_modules[architecture]
  loaded = tf.saved_model.load(str(serving_exports[architecture]))
  client = ServingClient.from_saved_model(serving_exports[architecture])
  images = np.stack([smooth_image(50, 70, seed=seed) for seed in range(3)])
  outputs = loaded.signatures["serving_default"](images=tf.constant(images))
  assert outputs["codes"].shape == (3, 4, 5, 8) and outputs["class_scores"].shape == (3, 5)
  np.testing.assert_allclose(outputs["class_scores"].numpy().sum(-1), 1.0, rtol=1e-5)

  files = client.files({name: value.numpy() for name, value in outputs.items()}, 50, 70)
  for image, data in zip(images, files):
    assert data == codec.compress(tf.constant(image))["file"].numpy()
    read = client.read(data)
    decoded = loaded.signatures["decode"](codes=tf.constant(read.codes), height=read.height,
                                          width=read.width)["images"].numpy()[0]
    in_process = codec.decompress(tf.constant(data))
    np.testing.assert_array_equal(decoded, in_process["image"].numpy())
    if architecture == "post":
      scores = loaded.signatures["classify_codes"](codes=tf.constant(read.codes))
      assert int(scores["label"][0]) == int(in_process["label"])
    else:
      assert read.label == int(in_process["label"])


def test_rest_bodies_give_the_same_files_and_images(serving_exports, codec_modules):
  loaded = tf.saved_model.load(str(serving_exports["pre"]))
  info = serve_rest(loaded, '{"signature_name": "info", "inputs": {"unused": 0}}')
  client = ServingClient(response_outputs(info, INFO_OUTPUTS))
  image = smooth_image(33, 47)
  answer = serve_rest(loaded, client.rest_compress_request(image[np.newaxis]))
  [data] = client.files_from_rest(answer, 33, 47)
  codec = codec_modules["pre"]
  assert data == codec.compress(tf.constant(image))["file"].numpy()
  images = response_outputs(serve_rest(loaded, client.rest_decode_request(data)), ["images"])
  np.testing.assert_array_equal(images["images"][0], codec.decompress(tf.constant(data))["image"])


def test_a_fresh_process_lists_and_runs_the_signatures_with_stock_tensorflow(
    serving_exports, tmp_path):
  shown = saved_model_cli("show", "--dir", str(serving_exports["post"]), "--all")
  assert shown.returncode == 0, shown.stderr[-2000:]
  for signature in ("serving_default", "decode", "classify_codes", "info"):
    assert f"signature_def['{signature}']" in shown.stdout
  serving_default = shown.stdout.split("signature_def['serving_default']")[1]
  assert "inputs['images']" in serving_default and "DT_UINT8" in serving_default
  assert "shape: (-1, -1, -1, 3)" in serving_default
  for output in ("codes", "class_scores", "label"):
    assert f"outputs['{output}']" in serving_default

  image = smooth_image(20, 24)[np.newaxis]
  outputs = run_in_fresh_process(serving_exports["post"], "serving_default", {"images": image},
                                 tmp_path)
  in_process = tf.saved_model.load(str(serving_exports["post"])).signatures["serving_default"](
      images=tf.constant(image))
  np.testing.assert_array_equal(outputs["codes"], in_process["codes"].numpy())


def test_client_refuses_foreign_files_and_mismatched_codes(serving_exports, codec_modules):
  client = ServingClient.from_saved_model(serving_exports["post"])
  foreign = CodecModule(tiny_model("post", seed=1))
  data = foreign.compress(tf.constant(smooth_image(16, 16)))["file"].numpy()
  with pytest.raises(UserError, match="written by another model"):
    client.read(data)
  good = codec_modules["post"].compress(tf.constant(smooth_image(16, 16)))["file"].numpy()
  with pytest.raises(UserError, match="checksum"):
    client.read(good[:-3] + bytes([good[-3] ^ 1]) + good[-2:])
  with pytest.raises(UserError, match="not those of 50x70 images"):
    client.files({"codes": np.zeros((1, 2, 2, 8), np.int32), "label": np.zeros(1)}, 50, 70)
  with pytest.raises(UserError, match="not the info of a DeepSIC serving model"):
    ServingClient({"config": "{}"})
  with pytest.raises(UserError, match="is not a DeepSIC serving SavedModel"):
    ServingClient.from_saved_model(serving_exports["post"] / "variables")


def test_model_id_does_not_depend_on_how_many_models_the_process_built():
  # Keras names the second model's variables conv2d_5 and so on; the id must not change.
  assert model_id(tiny_model("post")) == model_id(tiny_model("post"))
