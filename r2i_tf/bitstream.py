"""The progressive R2I file format: a header, then the packed bits stage by stage.

Layout (integers big-endian): the 13 bytes both codecs' files begin with
(`compression_eval.file_header`: magic "R2IC", format version 1, model id, height,
width), then

  offset  size   field
  13      1      stages the model has
  14      1      stages in this file (k)
  15      1      flags: bit 0 set if the stages are entropy-coded; bit 1 set (with
                 bit 0) if coded with the learned bit model rather than the adaptive
                 one; bits 4-7: the stages of the first code minus one (IR2I: 1,
                 stages 1-2; R2I: 0)
  16      8 * k  per stage: payload length (4), CRC-32 of the payload (4)
  16+8k   4      CRC-32 of the header bytes before it
  20+8k   ...    the k stage payloads, in stage order

A stage's payload is the bits of all blocks (raster order, each block's 2x2x32 code in
row-major order), packed 8 to a byte: 16 bytes per 32x32 block; or, with the flag,
those bits range-coded (each stage its own stream) by `r2i_tf.entropy` (adaptive model)
or `r2i_tf.learned_entropy` (the coder's learned bit model, `r2i_tf.bit_model`). Because the stages
come in order, cutting a file after stage j (j < k) leaves a file that decodes to the
stage-j image: `parse` decodes the stages that are complete and intact (for IR2I, whose
inpainting needs the whole first code, at least the first code's). Everything
is checked (length, magic, version, model, header CRC, declared payload sizes) before
any payload is touched, so a bad file never makes the decoder allocate what it declares.
"""
from __future__ import annotations

import dataclasses
import struct
import zlib
from typing import Callable, List, Optional, Sequence

import numpy as np

from compression_eval.errors import UserError

MAGIC = b"R2IC"
FORMAT_VERSION = 1
MAX_SIDE = 2**16 - 1
_FIXED = struct.Struct(">4sBIHHBBB")
ENTROPY_CODED = 1
LEARNED = 2
_RESERVED_FLAGS = 0b1100
_FIRST_CODE_SHIFT = 4
_STAGE = struct.Struct(">II")
_CRC = struct.Struct(">I")


class BitstreamError(UserError):
  """A file that is not, or no longer, a valid R2I file for this model."""


@dataclasses.dataclass(frozen=True)
class Parsed:
  """What a file holds: its model, image size and the complete stages' payloads."""
  model_id: int
  height: int
  width: int
  model_stages: int
  stages_written: int
  entropy_coded: bool
  learned: bool  # entropy-coded with the learned bit model
  first_code_stages: int
  payloads: List[bytes]  # the complete, intact stages (at least the first code's)


def header_size(stages: int) -> int:
  return _FIXED.size + stages * _STAGE.size + _CRC.size


def pack(model_id: int, height: int, width: int, model_stages: int,
         payloads: Sequence[bytes], entropy_coded: bool = False,
         first_code_stages: int = 1, learned: bool = False) -> bytes:
  """The bytes of a file holding `payloads` (the first len(payloads) stages);
  `learned`: entropy-coded with the learned bit model."""
  if not (1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE):
    raise UserError(f"image sides must be 1 to {MAX_SIDE} pixels, got {height}x{width}")
  if not 1 <= first_code_stages <= min(model_stages, 16):
    raise UserError(f"a first code of {first_code_stages} stages does not fit the format")
  if not first_code_stages <= len(payloads) <= model_stages:
    raise UserError(f"a file holds {first_code_stages} to {model_stages} stages, "
                    f"not {len(payloads)}")
  flags = ((ENTROPY_CODED if entropy_coded or learned else 0) | (LEARNED if learned else 0)
           | (first_code_stages - 1) << _FIRST_CODE_SHIFT)
  header = _FIXED.pack(MAGIC, FORMAT_VERSION, model_id, height, width, model_stages,
                       len(payloads), flags)
  header += b"".join(_STAGE.pack(len(p), zlib.crc32(p)) for p in payloads)
  return header + _CRC.pack(zlib.crc32(header)) + b"".join(payloads)


def truncate(data: bytes, stages: int) -> bytes:
  """The file `pack` would have written with only the first `stages` stages."""
  parsed = parse(data, model_id=None, stage_bytes=None)
  if stages > len(parsed.payloads):
    raise UserError(f"the file holds {len(parsed.payloads)} stages, not {stages}")
  return pack(parsed.model_id, parsed.height, parsed.width, parsed.model_stages,
              parsed.payloads[:stages], parsed.entropy_coded, parsed.first_code_stages,
              parsed.learned)


def sizes_by_stage(parsed: Parsed) -> List[int]:
  """For k = 1, 2, ...: the bytes of the file `truncate` would write with k stages."""
  sizes, payload = [], 0
  for k, stage in enumerate(parsed.payloads, start=1):
    payload += len(stage)
    sizes.append(header_size(k) + payload)
  return sizes


def parse(data: bytes, model_id: Optional[int],
          stage_bytes: Optional[Callable[[int, int], int]]) -> Parsed:
  """Checks a file and returns its complete stages.

  Args:
    data: the file's bytes, possibly cut short after (or inside) some stage.
    model_id: the decoding model's id; a file from another model is refused. None
      skips the check (for tools that only rewrite files).
    stage_bytes: the packed (uncoded) payload size per stage the decoding model gives
      for an image size (height, width): uncoded stages must have exactly this size,
      entropy-coded ones at most 8 times it (no probability the coder uses is below
      1/128, so no bit costs more than 7); None skips the check.
  """
  if len(data) < _FIXED.size:
    raise BitstreamError("not an R2I file (too short for the header)")
  (magic, version, file_model, height, width, model_stages, written,
   flags) = _FIXED.unpack_from(data)
  if magic != MAGIC:
    raise BitstreamError("not an R2I file (wrong magic bytes)")
  if version != FORMAT_VERSION:
    raise BitstreamError(f"R2I format version {version} is not supported (this reader: "
                         f"{FORMAT_VERSION})")
  if model_id is not None and file_model != model_id:
    raise BitstreamError(f"the file was written by another R2I model (id {file_model:08x}, "
                         f"this model is {model_id:08x})")
  if len(data) < header_size(written):
    raise BitstreamError("truncated R2I file (the header is incomplete)")
  table_end = header_size(written) - _CRC.size
  (header_crc,) = _CRC.unpack_from(data, table_end)
  if zlib.crc32(data[:table_end]) != header_crc:
    raise BitstreamError("corrupt R2I file (header checksum mismatch)")
  first_code = (flags >> _FIRST_CODE_SHIFT) + 1
  if not (1 <= height and 1 <= width and first_code <= written <= model_stages
          and not flags & _RESERVED_FLAGS
          and (flags & ENTROPY_CODED or not flags & LEARNED)):
    raise BitstreamError("corrupt R2I file (impossible size, stage count or flags)")
  entropy_coded = bool(flags & ENTROPY_CODED)
  entries = [_STAGE.unpack_from(data, _FIXED.size + i * _STAGE.size) for i in range(written)]
  if stage_bytes is not None:
    packed = stage_bytes(height, width)
    if any(length > 8 * packed if entropy_coded else length != packed for length, _ in entries):
      raise BitstreamError("corrupt R2I file (a stage's size does not match the image size)")
  payloads: List[bytes] = []
  offset = header_size(written)
  for length, crc in entries:
    payload = data[offset:offset + length]
    if len(payload) < length:
      break  # cut inside this stage: the earlier stages still decode
    if zlib.crc32(payload) != crc:
      raise BitstreamError(f"corrupt R2I file (stage {len(payloads) + 1} checksum mismatch)")
    payloads.append(payload)
    offset += length
  if len(payloads) < first_code:
    what = "stage" if first_code == 1 else f"code (stages 1-{first_code})"
    raise BitstreamError(f"truncated R2I file (not even the first {what} is complete)")
  if len(payloads) == written and offset != len(data):
    raise BitstreamError("corrupt R2I file (bytes after the last stage)")
  return Parsed(file_model, height, width, model_stages, written, entropy_coded,
                bool(flags & LEARNED), first_code, payloads)


def pack_bits(bits: np.ndarray) -> bytes:
  """0/1 codes of one stage (blocks, 2, 2, C) to bytes, 8 bits a byte in row-major order."""
  return np.packbits(bits.astype(np.uint8).ravel()).tobytes()


def unpack_bits(payload: bytes, shape: Sequence[int]) -> np.ndarray:
  """Inverse of `pack_bits` for a stage of the given code shape."""
  count = int(np.prod(shape))
  return np.unpackbits(np.frombuffer(payload, np.uint8), count=count).reshape(shape)
