"""TF Serving's REST predict API as JSON, both ways, for the project's serving clients.

Requests use the columnar ("inputs") format: it takes scalar inputs (an image's height)
beside batched ones, which the row ("instances") format cannot. TF Serving answers
{"outputs": {name: value}}, or {"outputs": value} when a signature has a single output,
and {"error": message} when it refuses a request.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Sequence

import numpy as np

from compression_eval.errors import UserError


def request_body(signature: str, inputs: Mapping[str, Any]) -> str:
  """The JSON body of a predict request (POST /v1/models/NAME:predict)."""
  return json.dumps({"signature_name": signature,
                     "inputs": {name: np.asarray(value).tolist() for name, value in inputs.items()}})


def images_request(images: np.ndarray) -> str:
  """The body of a `serving_default` request for same-size uint8 RGB images (N, H, W, 3),
  the input both codecs' serving exports take."""
  images = np.asarray(images)
  if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
    raise UserError(f"expected uint8 RGB images (N, H, W, 3), got {images.dtype} {images.shape}")
  return request_body("serving_default", {"images": images})


def response_outputs(response: str | bytes | Mapping[str, Any],
                     names: Sequence[str]) -> Dict[str, np.ndarray]:
  """The named outputs of a predict response, as arrays.

  `names` lists the outputs the caller needs; the first one names a single-output
  answer.
  """
  try:
    body = json.loads(response) if isinstance(response, (str, bytes)) else response
  except ValueError:
    raise UserError("the TF Serving response is not JSON") from None
  if not isinstance(body, Mapping):
    raise UserError("the TF Serving response is not a JSON object")
  if "error" in body:
    raise UserError(f"TF Serving refused the request: {body['error']}")
  if "outputs" not in body:
    raise UserError("not a TF Serving predict response (it has no 'outputs')")
  outputs = body["outputs"]
  if not isinstance(outputs, Mapping):
    outputs = {names[0]: outputs}
  missing = [name for name in names if name not in outputs]
  if missing:
    raise UserError(f"the TF Serving response lacks {', '.join(missing)}; is it the right model?")
  return {name: np.asarray(outputs[name]) for name in names}


def as_text(value: Any) -> str:
  """A string output as text, whether it came as JSON text, bytes or a numpy scalar."""
  value = value.item() if isinstance(value, np.ndarray) else value
  return value.decode() if isinstance(value, bytes) else str(value)
