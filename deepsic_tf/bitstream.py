"""The DeepSIC file format, packed and checked with TensorFlow ops.

The format lives in the graph so that an exported SavedModel reads and writes whole
files by itself: a user with only `tensorflow` and `tensorflow_compression` can decode.

Layout (integers big-endian): the 13 bytes both codecs' files begin with
(`compression_eval.file_header`: magic "DSIC", format version 1, model id, height,
width), then

  offset  size  field
  13      L     pre-semantic: the label, in the ceil(log2(classes)) bits the model
                reserves, rounded up to whole bytes (L = 0 for post-semantic)
  13+L    4     checksum: the first 4 bytes of the farmhash fingerprint of every other
                byte of the file (header before it, then payload)
  17+L    ...   payload: the range-coded code; for a hyperprior model (whose config
                the model id names), the side code's length (4), the range-coded side
                code z, then the code

Format version 1 codes the code with the model's own entropy model (factorized or
hyperprior), in the graph; version 2 (`CONTEXT_VERSION`) with the context-adaptive
binary coder (`deepsic_tf.context_coding`), which runs in Python: a reader of one
version refuses the other in one line.

The padding (up to the model's total stride, by edge replication) follows from the
size and the model, so it is not stored. Checks run in order (length, magic, version,
model, checksum) before anything is decoded, so a bad file never reaches the range
decoder and never makes it allocate a size it declares.
"""
from __future__ import annotations

from typing import NamedTuple

import tensorflow as tf

from compression_eval import file_header

MAGIC = b"DSIC"
FORMAT_VERSION = 1
CONTEXT_VERSION = 2  # payload coded by deepsic_tf.context_coding
MAX_SIDE = 2**16 - 1
_FIXED = {"magic": 4, "version": 1, "model_id": 4, "height": 2, "width": 2}
CHECKSUM_BYTES = 4
ERROR_PREFIX = "DeepSIC error: "

_BYTES = [bytes([value]) for value in range(256)]


def header_size(label_bytes: int) -> int:
  return sum(_FIXED.values()) + label_bytes + CHECKSUM_BYTES


def label_bytes_for(label_bits: int) -> int:
  return (label_bits + 7) // 8


def declared_size(data: bytes) -> tuple[int, int] | None:
  """(height, width) a file's header declares, read without checking it; None if it has
  none. Lets a reader refuse an absurd size before the graph decodes anything."""
  prefix = file_header.read_prefix(data)
  if prefix is None or prefix.magic != MAGIC:
    return None
  return prefix.height, prefix.width


def _to_bytes(value: tf.Tensor, width: int) -> tf.Tensor:
  """A non-negative integer as `width` big-endian bytes (a scalar string)."""
  value = tf.cast(value, tf.int64)
  shifts = tf.constant([8 * (width - 1 - i) for i in range(width)], tf.int64)
  digits = tf.bitwise.bitwise_and(tf.bitwise.right_shift(value, shifts), 255)
  return tf.strings.reduce_join(tf.gather(tf.constant(_BYTES), digits))


def _from_bytes(data: tf.Tensor, start: int, width: int) -> tf.Tensor:
  """The big-endian integer in `width` bytes of `data` from `start`, as int64."""
  digits = tf.cast(tf.io.decode_raw(tf.strings.substr(data, start, width), tf.uint8), tf.int64)
  weights = tf.constant([256**(width - 1 - i) for i in range(width)], tf.int64)
  return tf.reduce_sum(tf.reshape(digits, [-1]) * weights)


def _checksum(data: tf.Tensor) -> tf.Tensor:
  """4 bytes of farmhash64 of `data` (an error-detecting code, not a security one)."""
  digest = tf.fingerprint(tf.reshape(data, [1]))[0, :CHECKSUM_BYTES]
  return tf.strings.reduce_join(tf.gather(tf.constant(_BYTES), tf.cast(digest, tf.int32)))


def pack(model_id: int, height: tf.Tensor, width: tf.Tensor, label: tf.Tensor,
         label_bytes: int, payload: tf.Tensor, version: int = FORMAT_VERSION) -> tf.Tensor:
  """The whole file as a scalar string."""
  fields = [tf.constant(MAGIC), _to_bytes(version, 1), _to_bytes(model_id, 4),
            _to_bytes(height, 2), _to_bytes(width, 2)]
  if label_bytes:
    fields.append(_to_bytes(label, label_bytes))
  head = tf.strings.join(fields)
  return tf.strings.join([head, _checksum(tf.strings.join([head, payload])), payload])


class Parsed(NamedTuple):
  height: tf.Tensor  # int64
  width: tf.Tensor
  label: tf.Tensor  # int64; 0 where the format stores none
  payload: tf.Tensor  # scalar string


def _check(condition: tf.Tensor, message: str) -> tf.Operation:
  return tf.debugging.Assert(condition, [tf.constant(ERROR_PREFIX + message)])


def unpack(data: tf.Tensor, model_id: int, label_bytes: int, num_classes: int,
           version: int = FORMAT_VERSION) -> Parsed:
  """Validates a file of format `version` and splits it into its fields; raises
  InvalidArgumentError if bad."""
  size = header_size(label_bytes)
  length = tf.strings.length(data)
  with tf.control_dependencies([_check(length >= size, "file is truncated or not a DeepSIC file")]):
    magic_ok = tf.equal(tf.strings.substr(data, 0, 4), MAGIC)
  with tf.control_dependencies([_check(magic_ok, "not a DeepSIC file (bad magic)")]):
    stored_version = _from_bytes(data, 4, 1)
  with tf.control_dependencies([_check(tf.equal(stored_version, version),
                                       "DeepSIC file has an unsupported format version")]):
    stored_model = _from_bytes(data, 5, 4)
  with tf.control_dependencies([_check(tf.equal(stored_model, model_id),
                                       "DeepSIC file was written by another model")]):
    head = tf.strings.substr(data, 0, size - CHECKSUM_BYTES)
    stored_checksum = tf.strings.substr(data, size - CHECKSUM_BYTES, CHECKSUM_BYTES)
    payload = tf.strings.substr(data, size, length - size)
  checksum_ok = tf.equal(stored_checksum, _checksum(tf.strings.join([head, payload])))
  with tf.control_dependencies([_check(checksum_ok, "DeepSIC file is corrupt or truncated (checksum mismatch)")]):
    height = _from_bytes(data, 9, 2)
    width = _from_bytes(data, 11, 2)
    label = _from_bytes(data, 13, label_bytes) if label_bytes else tf.constant(0, tf.int64)
  sane = tf.reduce_all([height >= 1, width >= 1, label < num_classes])
  with tf.control_dependencies([_check(sane, "DeepSIC file has a corrupt header")]):
    return Parsed(tf.identity(height), tf.identity(width), tf.identity(label),
                  tf.identity(payload))


SIDE_LENGTH_BYTES = 4


def join_codes(side: tf.Tensor, code: tf.Tensor) -> tf.Tensor:
  """A hyperprior model's payload: the side code's length, the side code, the code."""
  return tf.strings.join([_to_bytes(tf.strings.length(side), SIDE_LENGTH_BYTES), side, code])


def split_codes(payload: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
  """Inverse of `join_codes`: (side code, code); raises InvalidArgumentError if the
  declared length does not fit the payload."""
  length = tf.strings.length(payload)
  with tf.control_dependencies([_check(length >= SIDE_LENGTH_BYTES,
                                       "DeepSIC file is truncated (no side code)")]):
    side_length = _from_bytes(payload, 0, SIDE_LENGTH_BYTES)
  fits = side_length <= tf.cast(length - SIDE_LENGTH_BYTES, tf.int64)
  with tf.control_dependencies([_check(fits, "DeepSIC file has a corrupt side code length")]):
    side_length = tf.cast(side_length, tf.int32)
    side = tf.strings.substr(payload, SIDE_LENGTH_BYTES, side_length)
    code = tf.strings.substr(payload, SIDE_LENGTH_BYTES + side_length,
                             length - SIDE_LENGTH_BYTES - side_length)
  return side, code
