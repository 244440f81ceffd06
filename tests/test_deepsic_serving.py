"""The TF Serving export: standard ops only, and the same codes and pixels as the codec."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from deepsic_tf import bitstream, serving
from tests.conftest import smooth_image


def _op_types(saved_model_dir) -> set:
  from tensorflow.core.protobuf import saved_model_pb2  # pylint: disable=import-outside-toplevel
  proto = saved_model_pb2.SavedModel()
  proto.ParseFromString((saved_model_dir / "saved_model.pb").read_bytes())
  graph = proto.meta_graphs[0].graph_def
  ops = {node.op for node in graph.node}
  for function in graph.library.function:
    ops |= {node.op for node in function.node_def}
  return ops


def test_serving_export_uses_standard_ops_and_matches_the_codec(tiny_models, codec_modules,
                                                                 exported, tmp_path):
  model, codec = tiny_models["post"], codec_modules["post"]
  serving.export(model, str(tmp_path / "serving"))
  standard = set(tf.raw_ops.__dict__)
  assert _op_types(tmp_path / "serving") <= standard | {"NoOp"}
  # The codec export, by contrast, really does contain tensorflow-compression's ops.
  assert _op_types(exported["post"]) - standard

  loaded = tf.saved_model.load(str(tmp_path / "serving"))
  image = smooth_image(50, 70)
  outputs = loaded.signatures["serving_default"](images=tf.constant(image[np.newaxis]))
  assert outputs["codes"].shape == (1, 4, 5, 8) and outputs["class_scores"].shape == (1, 5)
  np.testing.assert_allclose(outputs["class_scores"].numpy().sum(), 1.0, rtol=1e-5)

  data = codec.compress(tf.constant(image))["file"].numpy()
  parsed = bitstream.unpack(tf.constant(data), codec._model_id, 0, 5)  # pylint: disable=protected-access
  lattice = codec.entropy_model.decompress(parsed.payload[tf.newaxis], [4, 5])
  np.testing.assert_array_equal(outputs["codes"].numpy(), lattice.numpy().astype(np.int32))

  decoded = loaded.signatures["decode"](codes=outputs["codes"], height=tf.constant(50),
                                        width=tf.constant(70))["images"].numpy()[0]
  np.testing.assert_array_equal(decoded, codec.decompress(tf.constant(data))["image"].numpy())
  scores = loaded.signatures["classify_codes"](codes=outputs["codes"])["class_scores"]
  assert int(tf.argmax(scores[0])) == int(codec.classify(tf.constant(data))["label"])
