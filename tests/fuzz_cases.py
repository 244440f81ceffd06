"""Mutated files for the decoders, shared by the fuzz tests and the longer harness.

A target is one reader (a codec's decompress, the image reader) with valid inputs it
wrote; `mutations` draws damaged versions of them: random bytes, cuts, bit flips in
header and payload, header fields set to odd values (wrong version, another model,
huge sizes), appended and spliced bytes. "Resealed" mutations recompute the file's
checksums afterwards so that the damage gets past them to the code inside. `outcome`
runs a reader on one input and fails unless it decodes a valid result or refuses with
the project's one-line `UserError`, within a time limit and without allocating the
declared size.
"""
from __future__ import annotations

import dataclasses
import faulthandler
import struct
import tempfile
import time
import zlib
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import tensorflow as tf
from hypothesis import strategies as st
from PIL import Image

from compression_eval import memory
from compression_eval.errors import UserError
from compression_eval.images import read_rgb8
from deepsic_tf import bitstream as deepsic_format
from deepsic_tf.saved_codec import SavedCodec as DeepSICCodec
from r2i_tf import bitstream as r2i_format
from r2i_tf.config import PATCH_SIZE
from r2i_tf.saved_codec import SavedCodec as R2ICodec
from tests.conftest import smooth_image

HANG_SECONDS = 60  # a reader still running then has hung: the process ends with its traceback
# The readers refuse files that declare more pixels than this (`max_pixels`, 256 Mpixel by
# default): within it a header field set to a large size, resealed, decodes validly in
# a fraction of a second; the limit itself is what the huge sizes exercise.
MAX_PIXELS = 2**20
# What one input may take: a base (the first call of a reader builds its graphs) plus a
# share per pixel the input declares (MAX_PIXELS where it declares none we can read). Measured
# with these tiny models on 2 cores busy with a training run (nice 19, 1,550 inputs, seeds
# 0-2): at most 0.28 s and 17 MB up to 96x64 (first calls); 0.37 s and 100 MB for the
# largest decoded, an entropy-coded R2I file declaring 0.57 Mpixel; 0.26 s and 64 MB at
# 1 Mpixel (DeepSIC, entropy-coded R2I). The memory budget is 2-4 times the worst case up
# to 0.6 Mpixel (5-8 times at 1 Mpixel, where the base counts); the time budget leaves 7x
# for a slower CI machine. A reader that allocated per declared pixel, or got many times
# slower, fails.
BASE_SECONDS, SECONDS_PER_MPIXEL = 2.0, 1.0
BASE_MB, MB_PER_MPIXEL = 64, 256
# IR2I decodes block after block (each inpainted from its decoded neighbours), so its time
# goes with the 32x32 blocks, not the pixels: a 1 x 16,385 file is 513 blocks of one row,
# 2.0-2.1 s for the tiny IR2I (raw or learned; 128 x 128, 16 blocks: 0.05 s). The
# allowance leaves 5x that.
IR2I_SECONDS_PER_BLOCK = 0.02


def budget(height: int, width: int, block: int = 1,
           seconds_per_block: float = 0.0) -> Tuple[float, float]:
  """(seconds, MB of peak memory growth) one input declaring height x width may take, for
  a reader that pads the image to whole `block` x `block` blocks and spends
  `seconds_per_block` on each beside the pixels' share."""
  if height * width > MAX_PIXELS:  # refused before any work
    return BASE_SECONDS + SECONDS_PER_MPIXEL, BASE_MB + MB_PER_MPIXEL
  rows, columns = -(-height // block), -(-width // block)
  mpixels = rows * columns * block * block / 2**20
  return (BASE_SECONDS + SECONDS_PER_MPIXEL * mpixels + seconds_per_block * rows * columns,
          BASE_MB + MB_PER_MPIXEL * mpixels)


@dataclasses.dataclass(frozen=True)
class Target:
  """A reader and the valid inputs its mutations start from.

  read: decodes bytes; returns the decoded image's (height, width) or raises UserError.
  declared: the (height, width) a valid input's header declares (None: no header).
  header_end: where the header of an input ends (bit flips are split around it).
  fields: header fields (offset, width in bytes) a mutation may overwrite.
  reseal: recomputes an input's checksums (identity for formats without any).
  block: the side of the blocks the reader pads an image to (R2I: 32); the budget counts
    the padded pixels, which a thin image has many more of than its own.
  seconds_per_block: time allowed per block beside `budget`'s per-pixel share (IR2I: its
    decoder works block by block).
  """
  name: str
  valid: Tuple[bytes, ...]
  read: Callable[[bytes], Tuple[int, int]]
  header_end: Callable[[bytes], int]
  fields: Dict[str, Tuple[int, int]]
  reseal: Callable[[bytes], bytes] = lambda data: data
  declared: Callable[[bytes], Optional[Tuple[int, int]]] = lambda data: None
  block: int = 1
  seconds_per_block: float = 0.0


def _flip(data: bytes, positions: List[int]) -> bytes:
  buffer = bytearray(data)
  for bit in positions:
    buffer[bit // 8] ^= 1 << (bit % 8)
  return bytes(buffer)


@st.composite
def mutations(draw: st.DrawFn, target: Target) -> bytes:
  """One damaged input for `target`."""
  base = draw(st.sampled_from(target.valid))
  kind = draw(st.sampled_from(("random", "cut", "header bits", "payload bits", "field",
                               "appended", "spliced")))
  if kind == "random":
    return draw(st.binary(max_size=2 * len(base)))
  if kind == "cut":
    return base[:draw(st.integers(0, len(base) - 1))]
  if kind == "appended":
    return base + draw(st.binary(min_size=1, max_size=64))
  if kind == "spliced":
    other = draw(st.sampled_from(target.valid))
    return base[:draw(st.integers(0, len(base)))] + other[draw(st.integers(0, len(other))):]
  if kind == "field":
    offset, width = target.fields[draw(st.sampled_from(sorted(target.fields)))]
    value = draw(st.one_of(st.just(0), st.just(256**width - 1), st.integers(0, 256**width - 1)))
    mutated = base[:offset] + value.to_bytes(width, "big") + base[offset + width:]
  else:
    end = target.header_end(base)
    low, high = (0, 8 * end - 1) if kind == "header bits" else (8 * end, 8 * len(base) - 1)
    if low > high:
      return base[:-1]
    mutated = _flip(base, draw(st.lists(st.integers(low, high), min_size=1, max_size=8)))
  return target.reseal(mutated) if draw(st.booleans()) else mutated


def outcome(target: Target, data: bytes) -> str:
  """"decoded" or "refused"; raises AssertionError for anything else, or for an input that
  took more time or memory than its `budget`.

  A reader that runs past HANG_SECONDS ends the whole process with its traceback (a
  watchdog thread: TensorFlow's kernels do not return to Python to be interrupted).
  """
  declared = target.declared(data)
  if declared is None:  # no size to read: the budget of the largest size a reader accepts
    seconds, megabytes = budget(MAX_PIXELS, 1)
  else:
    seconds, megabytes = budget(*declared, target.block, target.seconds_per_block)
  memory.reset_peak()
  before = memory.resident_mb()
  start = time.monotonic()
  faulthandler.dump_traceback_later(HANG_SECONDS, exit=True)
  try:
    shape = target.read(data)
  except UserError as error:
    message = str(error)
    assert message and "\n" not in message, f"{target.name}: not a one-line error: {message!r}"
    result = "refused"
  else:
    assert declared is None or shape == declared, (
        f"{target.name}: decoded {shape}, the header declares {declared}")
    assert min(shape) >= 1
    result = "decoded"
  finally:
    faulthandler.cancel_dump_traceback_later()
  elapsed, growth = time.monotonic() - start, memory.peak_mb() - before
  assert elapsed < seconds, f"{target.name}: took {elapsed:.3f} s, more than {seconds:.3f} s"
  assert growth < megabytes, (
      f"{target.name}: peak memory grew {growth:.0f} MB, more than {megabytes:.0f} MB")
  return result


# DeepSIC files: the checksum is the first 4 bytes of farmhash64 over the header before it
# and the payload (`deepsic_tf.bitstream`).

def _deepsic_reseal(label_bytes: int) -> Callable[[bytes], bytes]:
  size = deepsic_format.header_size(label_bytes)

  def reseal(data: bytes) -> bytes:
    if len(data) < size:
      return data
    head, payload = data[:size - deepsic_format.CHECKSUM_BYTES], data[size:]
    digest = tf.fingerprint(tf.constant([head + payload]))[0, :deepsic_format.CHECKSUM_BYTES]
    return head + bytes(digest.numpy().tolist()) + payload

  return reseal


def deepsic_target(codec_path: Path, name: Optional[str] = None,
                   context_coded: bool = False) -> Target:
  codec = DeepSICCodec(codec_path, max_pixels=MAX_PIXELS)
  label_bytes = deepsic_format.label_bytes_for(codec.config.label_bits)
  valid = tuple(codec.compress(smooth_image(*shape, seed=seed), context_coded)
                for seed, shape in enumerate([(1, 1), (40, 72), (96, 64)]))

  def read(data: bytes) -> Tuple[int, int]:
    return codec.decompress(data).image.shape[:2]

  return Target(name or f"deepsic-{codec.config.architecture}", valid, read,
                lambda data: deepsic_format.header_size(label_bytes),
                {"version": (4, 1), "model": (5, 4), "height": (9, 2), "width": (11, 2),
                 **({"label": (13, label_bytes)} if label_bytes else {})},
                _deepsic_reseal(label_bytes), deepsic_format.declared_size)


# R2I files: a CRC-32 of the header, and one per stage payload (`r2i_tf.bitstream`).

def _r2i_header_end(data: bytes) -> int:
  return r2i_format.header_size(data[14] if len(data) > 14 else 0)


def _r2i_reseal(data: bytes) -> bytes:
  if len(data) < 16:
    return data
  stages = data[14]
  table_end = _r2i_header_end(data) - 4
  if len(data) < table_end:
    return data
  buffer, offset = bytearray(data), table_end + 4
  for stage in range(stages):
    entry = 16 + 8 * stage
    (length,) = struct.unpack_from(">I", buffer, entry)
    payload = data[offset:offset + length]
    struct.pack_into(">I", buffer, entry + 4, zlib.crc32(payload))
    offset += length
  header = bytes(buffer[:table_end])
  return header + struct.pack(">I", zlib.crc32(header)) + bytes(buffer[table_end + 4:])


def _r2i_declared(data: bytes) -> Optional[Tuple[int, int]]:
  return struct.unpack_from(">HH", data, 9) if len(data) >= 13 else None


def r2i_target(codec_path: Path, name: str, entropy_coded: bool | str = False,
               first_code_stages: int | None = None) -> Target:
  """`entropy_coded`: True (adaptive) or "learned" (a bit_model.npz beside the codec);
  `first_code_stages`: the IR2I first code the valid files are written with."""
  codec = R2ICodec(codec_path, max_pixels=MAX_PIXELS, first_code_stages=first_code_stages)
  valid = tuple(codec.compress(smooth_image(*shape, seed=seed), entropy_coded=entropy_coded)
                for seed, shape in enumerate([(1, 1), (40, 72)]))

  def read(data: bytes) -> Tuple[int, int]:
    return codec.decompress(data).image.shape[:2]

  return Target(name, valid, read, _r2i_header_end,
                {"version": (4, 1), "model": (5, 4), "height": (9, 2), "width": (11, 2),
                 "model stages": (13, 1), "stages": (14, 1), "flags": (15, 1),
                 "stage 1 length": (16, 4), "stage 2 length": (24, 4)},
                _r2i_reseal, _r2i_declared, PATCH_SIZE,
                IR2I_SECONDS_PER_BLOCK if codec.inpainting else 0.0)


def image_target(folder: Path) -> Target:
  """The image reader on PNGs (8-bit, 16-bit grey, palette, RGBA) and a JPEG."""
  image = smooth_image(24, 40)
  pictures = {
      "rgb.png": Image.fromarray(image),
      "grey16.png": Image.fromarray((image[..., 0].astype(np.uint16) * 257), mode="I;16"),
      "palette.png": Image.fromarray(image).convert("P"),
      "rgba.png": Image.fromarray(np.dstack([image, image[..., :1]]), mode="RGBA"),
      "photo.jpg": Image.fromarray(image),
  }
  valid = []
  for name, picture in pictures.items():
    picture.save(folder / name)
    valid.append((folder / name).read_bytes())

  def read(data: bytes) -> Tuple[int, int]:
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".img") as handle:
      handle.write(data)
      handle.flush()
      decoded = read_rgb8(handle.name, max_pixels=MAX_PIXELS)
    assert decoded.dtype == np.uint8 and decoded.ndim == 3 and decoded.shape[-1] == 3
    return decoded.shape[:2]

  # PNG: the IHDR chunk's width and height; bits beyond byte 33 are chunk data.
  return Target("images", tuple(valid), read, lambda data: 33,
                {"png width": (16, 4), "png height": (20, 4), "png bit depth": (24, 1)},
                declared=_png_declared)


def _png_declared(data: bytes) -> Optional[Tuple[int, int]]:
  """(height, width) of a PNG's IHDR chunk; None for anything else (the JPEG)."""
  if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
    return None
  width, height = struct.unpack_from(">II", data, 16)
  return height, width
