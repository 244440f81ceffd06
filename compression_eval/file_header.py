"""The 13 bytes every file of the project's learned codecs begins with.

Both formats (DeepSIC's `.dsic`, R2I's `.r2i`) open with the same fields, big-endian:

  offset  size  field
  0       4     magic: which format (b"DSIC", b"R2IC")
  4       1     format version
  5       4     model id: a hash of the config and weights of the model that wrote it
  9       2     image height (1 to 65535)
  11      2     image width

Each format checks them in its own reader; this module reads them without a model, so
that a command line can tell which shipped model wrote a file before loading any.
"""
from __future__ import annotations

import dataclasses
import struct
from typing import Optional

_PREFIX = struct.Struct(">4sBIHH")
SIZE = _PREFIX.size


@dataclasses.dataclass(frozen=True)
class Prefix:
  """The common fields of a file, unchecked."""
  magic: bytes
  version: int
  model_id: int
  height: int
  width: int


def read_prefix(data: bytes) -> Optional[Prefix]:
  """The fields a file's first bytes declare; None for a file shorter than them."""
  if len(data) < SIZE:
    return None
  return Prefix(*_PREFIX.unpack_from(data))
