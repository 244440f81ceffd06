"""What the serving tests of both packages share: op lists, a TF Serving REST stand-in,
and saved_model_cli in a fresh process."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Dict

import numpy as np
import tensorflow as tf


def op_types(saved_model_dir: Path) -> set:
  """Every op type in a SavedModel's graph and in all of its functions."""
  from tensorflow.core.protobuf import saved_model_pb2  # pylint: disable=import-outside-toplevel
  proto = saved_model_pb2.SavedModel()
  proto.ParseFromString((saved_model_dir / "saved_model.pb").read_bytes())
  graph = proto.meta_graphs[0].graph_def
  ops = {node.op for node in graph.node}
  for function in graph.library.function:
    ops |= {node.op for node in function.node_def}
  return ops


def custom_ops(saved_model_dir: Path) -> set:
  """The ops of a SavedModel that stock TensorFlow (and so TF Serving) does not have."""
  return op_types(saved_model_dir) - set(tf.raw_ops.__dict__) - {"NoOp"}


def serve_rest(loaded, body: str) -> str:
  """What TF Serving answers to a columnar REST predict request, for a loaded SavedModel.

  Inputs are cast to the signature's dtypes as TF Serving does; a single output comes
  back bare, several as a dict.
  """
  request = json.loads(body)
  function = loaded.signatures[request["signature_name"]]
  specs = function.structured_input_signature[1]
  inputs = {name: tf.constant(np.asarray(value), specs[name].dtype)
            for name, value in request["inputs"].items()}
  outputs = {name: _json_value(value) for name, value in function(**inputs).items()}
  return json.dumps({"outputs": next(iter(outputs.values())) if len(outputs) == 1 else outputs})


def _json_value(tensor: tf.Tensor):
  """A tensor as TF Serving writes it: numbers as numbers, strings as UTF-8 text."""
  array = np.asarray(tensor.numpy())
  if array.dtype.kind in "OS":
    array = np.vectorize(lambda text: text.decode(), otypes=[object])(array.astype(object))
  return array.tolist()


def saved_model_cli(*args: str) -> subprocess.CompletedProcess:
  """TensorFlow's saved_model_cli in a fresh process (stock TensorFlow, no extra ops)."""
  return subprocess.run([sys.executable, "-m", "tensorflow.python.tools.saved_model_cli", *args],
                        capture_output=True, text=True, timeout=300, check=False)


def run_in_fresh_process(saved_model_dir: Path, signature: str, inputs: Dict[str, np.ndarray],
                         scratch: Path) -> Dict[str, np.ndarray]:
  """Runs a signature with `saved_model_cli run` and returns its outputs."""
  scratch.mkdir(parents=True, exist_ok=True)
  arguments = []
  for name, value in inputs.items():
    np.save(scratch / f"{name}.npy", value)
    arguments.append(f"{name}={scratch / f'{name}.npy'}")
  result = saved_model_cli("run", "--dir", str(saved_model_dir), "--tag_set", "serve",
                           "--signature_def", signature, "--inputs", ";".join(arguments),
                           "--outdir", str(scratch / "out"), "--overwrite")
  assert result.returncode == 0, result.stderr[-2000:]
  return {path.stem: np.load(path) for path in (scratch / "out").glob("*.npy")}
