"""R2I's codec SavedModel as a TF Serving model: standard ops, one-call images to bits,
and files of the same bytes as the in-process codec."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from compression_eval.errors import UserError
from compression_eval.rest import response_outputs
from r2i_tf.codec import model_id
from r2i_tf.saved_codec import SavedCodec
from r2i_tf.serving_client import INFO_OUTPUTS, ServingClient
from tests.conftest import smooth_image
from tests.r2i_fixtures import tiny_r2i
from tests.serving_helpers import custom_ops, run_in_fresh_process, saved_model_cli, serve_rest


def test_r2i_and_ir2i_exports_have_no_custom_op(r2i_exported, ir2i_exported):
  assert not custom_ops(r2i_exported) and not custom_ops(ir2i_exported)


@pytest.mark.parametrize("entropy_coded", [False, True])
def test_serving_default_bits_pack_into_the_codec_bytes(r2i_exported, entropy_coded):
  codec = SavedCodec(r2i_exported)
  loaded = tf.saved_model.load(str(r2i_exported))
  images = np.stack([smooth_image(45, 70, seed=seed) for seed in range(2)])
  bits = loaded.signatures["serving_default"](images=tf.constant(images))["bits"].numpy()
  assert bits.shape == (2, 3, 2 * 3, 2, 2, 32)
  client = ServingClient.from_saved_model(r2i_exported)
  for stages in (1, 3):
    files = client.files(bits, 45, 70, stages, entropy_coded)
    for image, data in zip(images, files):
      assert data == codec.compress(image, stages, entropy_coded)
  decoded = codec.decompress(files[1])
  assert decoded.stages == 3


def test_rest_round_trip_and_a_fresh_process(r2i_exported, tmp_path):
  loaded = tf.saved_model.load(str(r2i_exported))
  info = serve_rest(loaded, '{"signature_name": "info", "inputs": {"unused": 0}}')
  client = ServingClient(response_outputs(info, INFO_OUTPUTS))
  image = smooth_image(33, 40)
  [data] = client.files_from_rest(serve_rest(loaded, client.rest_compress_request(
      image[np.newaxis])), 33, 40)
  assert data == SavedCodec(r2i_exported).compress(image)

  shown = saved_model_cli("show", "--dir", str(r2i_exported), "--all")
  assert shown.returncode == 0, shown.stderr[-2000:]
  for signature in ("serving_default", "encode", "decode", "info"):
    assert f"signature_def['{signature}']" in shown.stdout
  outputs = run_in_fresh_process(r2i_exported, "serving_default", {"images": image[np.newaxis]},
                                 tmp_path)
  np.testing.assert_array_equal(
      outputs["bits"], loaded.signatures["serving_default"](images=tf.constant(image[None]))["bits"])


def test_client_refuses_bits_of_another_size_and_bad_info(r2i_exported, r2i_foreign):
  client = ServingClient.from_saved_model(r2i_exported)
  with pytest.raises(UserError, match="not those of a 64x64 image"):
    client.files(np.zeros((1, 3, 2, 2, 2, 32), np.uint8), 64, 64)
  with pytest.raises(UserError, match="--stages must be between 1 and 3"):
    client.files(np.zeros((1, 3, 4, 2, 2, 32), np.uint8), 64, 64, stages=4)
  with pytest.raises(UserError, match="written by another R2I model"):
    client.parse(SavedCodec(r2i_foreign).compress(smooth_image(32, 32)))
  with pytest.raises(UserError, match="not the info of an R2I codec"):
    ServingClient({"model_id": 3})


def test_model_id_does_not_depend_on_how_many_models_the_process_built():
  assert model_id(tiny_r2i()) == model_id(tiny_r2i())
