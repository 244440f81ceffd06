"""Trained models as the project ships them: the config and float16 weights, nothing else.

A run's `model/` is a TensorFlow checkpoint in float32 that also holds the optimizer's
state (Adam keeps two more copies of every weight): 29 MB for an IR2I coder at the
`cpu` preset. Shipped in `saved_models/<name>/`, the weights alone in float16 take a
sixth of that. Loading casts them back to float32; every figure reported for a shipped
model is measured with these rounded weights, so the rounding is part of what is
measured, not an error beside it.
"""
from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from compression_eval.errors import UserError
from compression_eval.fileio import atomic_write_bytes

if TYPE_CHECKING:  # TensorFlow loads with the models, not with this module
  import tensorflow as tf

WEIGHTS_FILE = "weights.npz"
_NAMES = "names"


def weights_digest(folder: Path) -> str:
  """SHA-256 of a shipped model's weight file: the report records it for every model it
  measured, so that changed weights fail the tests until the report is regenerated."""
  return hashlib.sha256((Path(folder) / WEIGHTS_FILE).read_bytes()).hexdigest()


def model_weights(model: "tf.keras.Model") -> list:
  """The weights that define the model: `model.weights` without metric state.

  A subclassed model's metric trackers (a running total, a count) show up among its
  weights; they mean nothing to a shipped model, and a total can exceed float16.
  """
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  metric_state = {id(variable) for module in model.submodules
                  if isinstance(module, tf.keras.metrics.Metric) for variable in module.variables}
  return [variable for variable in model.weights if id(variable) not in metric_state]


def write_weights(model: tf.keras.Model, path: str | os.PathLike) -> Path:
  """Every weight of `model` (trainable or not), floats as float16, in `model_weights` order.

  A weight that float16 cannot hold (beyond 65504: a batch norm's moving variance of
  large pre-normalisation activations) stays float32 rather than become infinite. The
  names are kept for people reading the file; loading matches weights by order.
  """
  arrays = {}
  weights = model_weights(model)
  for index, variable in enumerate(weights):
    value = variable.numpy()
    if value.dtype.kind == "f" and np.all(np.abs(value) <= np.finfo(np.float16).max):
      value = value.astype(np.float16)
    arrays[f"w{index:04d}"] = value
  arrays[_NAMES] = np.array([variable.name for variable in weights])
  buffer = io.BytesIO()
  np.savez_compressed(buffer, **arrays)  # about 9 % smaller; np.load reads either
  return atomic_write_bytes(path, buffer.getvalue())


def read_weights(model: tf.keras.Model, path: str | os.PathLike) -> None:
  """Assigns weights written by `write_weights` to a model built from the same config.

  Raises:
    UserError: the file is unreadable, or holds weights of another architecture.
  """
  try:
    with np.load(path, allow_pickle=False) as data:
      names = [str(name) for name in data[_NAMES]]
      values = [data[f"w{index:04d}"] for index in range(len(names))]
  except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
    raise UserError(f"cannot read the weights in {path} ({type(error).__name__})") from None
  # Shapes, not names: Keras numbers layer names per process ("conv2d_7"), so the same
  # config builds the same weights in the same order under other names.
  variables = model_weights(model)
  expected = [tuple(variable.shape) for variable in variables]
  found = [value.shape for value in values]
  if expected != found:
    raise UserError(f"the weights in {path} belong to another model ({len(found)} weights; "
                    f"this model has {len(expected)}, or other shapes)")
  for variable, value in zip(variables, values):
    variable.assign(value.astype(variable.dtype.as_numpy_dtype))
