"""Using an exported R2I or IR2I codec: images in, progressive files out, and back.

The SavedModel (see `r2i_tf.codec`) runs the networks on batches of blocks; this
wrapper pads and cuts images into blocks, packs the stages into the file format of
`r2i_tf.bitstream` and maps bad input to one-line `UserError`s. Blocks go through the
networks in chunks, so memory stays bounded on large images. An IR2I codec first
inpaints and codes the blocks in scan order (`r2i_tf.scan`: wavefront or raster, same
bytes and pixels); the stages after the first code then decode all blocks at once.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import List, Optional

import numpy as np
import tensorflow as tf

from compression_eval.errors import UserError
from r2i_tf import bitstream, entropy, scan
from r2i_tf.blocks import from_blocks, grid_shape, to_blocks
from r2i_tf.config import CODE_SIDE, IR2IConfig, coder_config_from_json

BLOCKS_PER_CALL = 1024  # 32x32 blocks per network call: 1M pixels


@dataclasses.dataclass(frozen=True)
class Decoded:
  image: np.ndarray  # uint8 (H, W, 3), the reconstruction of the last decoded stage
  stages: int  # stages decoded (fewer than written if the file was cut short)
  stages_written: int


class SavedCodec:
  """A loaded R2I or IR2I codec SavedModel."""

  def __init__(self, path: str | os.PathLike):
    path = Path(path)
    if not (path / "saved_model.pb").is_file():
      raise UserError(f"no R2I codec SavedModel at {path} (expected {path}/saved_model.pb; "
                      "train one with scripts/train_r2i.py)")
    try:
      self._module = tf.saved_model.load(str(path))
      info = self._module.signatures["info"]()
      self.config = coder_config_from_json(info["config"].numpy().decode())
    except (KeyError, TypeError, ValueError, OSError, tf.errors.OpError) as error:
      raise UserError(f"{path} is not an R2I codec SavedModel ({type(error).__name__})") from None
    self.path = path
    self.model_id = int(info["model_id"].numpy())
    self.inpainting = isinstance(self.config, IR2IConfig)
    self.coder_config = self.config.coder if self.inpainting else self.config
    self.first_code_stages = self.config.first_code_stages if self.inpainting else 1

  def _code_shape(self, blocks: int) -> tuple:
    return (blocks, CODE_SIDE, CODE_SIDE, self.coder_config.code_channels)

  def _inpaint(self, contexts: np.ndarray) -> np.ndarray:
    return self._module.inpaint(tf.constant(contexts))["inpainting"].numpy()

  def _decode_first(self, bits: np.ndarray, inpaintings: np.ndarray) -> np.ndarray:
    """The first code's uint8 reconstruction from its bits (extra stages are ignored)."""
    first = tf.constant(bits[:self.first_code_stages])
    return self._module.decode(first, tf.constant(inpaintings))["images"].numpy()[-1]

  def _encode(self, blocks: np.ndarray, rows: int, cols: int, scan_order: str) -> np.ndarray:
    """Every stage's bits (stages, N, 2, 2, C) of an image's blocks."""
    if not self.inpainting:
      return np.concatenate([
          self._module.encode(tf.constant(blocks[i:i + BLOCKS_PER_CALL]))["bits"].numpy()
          for i in range(0, len(blocks), BLOCKS_PER_CALL)], axis=1)

    def encode(group: np.ndarray, inpaintings: np.ndarray) -> np.ndarray:
      return self._module.encode(tf.constant(group), tf.constant(inpaintings))["bits"].numpy()

    return scan.encode_blocks(blocks, rows, cols, scan_order, self._inpaint, encode,
                              self._decode_first)[0]

  def _decode(self, bits: np.ndarray, rows: int, cols: int, scan_order: str) -> np.ndarray:
    """Every stage's uint8 blocks (k, N, 32, 32, 3) from k stages' bits (k, N, 2, 2, C)."""
    count = bits.shape[1]
    if not self.inpainting:
      return np.concatenate([
          self._module.decode(tf.constant(bits[:, i:i + BLOCKS_PER_CALL]))["images"].numpy()
          for i in range(0, count, BLOCKS_PER_CALL)], axis=1)
    inpaintings = scan.decode_inpaintings(bits[:self.first_code_stages], rows, cols, scan_order,
                                          self._inpaint, self._decode_first)
    return np.concatenate([
        self._module.decode(tf.constant(bits[:, i:i + BLOCKS_PER_CALL]),
                            tf.constant(inpaintings[i:i + BLOCKS_PER_CALL]))["images"].numpy()
        for i in range(0, count, BLOCKS_PER_CALL)], axis=1)

  def compress(self, image: np.ndarray, stages: Optional[int] = None,
               entropy_coded: bool = False, scan_order: str = "wavefront") -> bytes:
    """A uint8 RGB image to the bytes of a file with its first `stages` stages (default all).

    `entropy_coded` range-codes each stage's bits (`r2i_tf.entropy`); otherwise they are
    stored as they are, the paper's rate. `scan_order` (IR2I only) changes the time, not
    the bytes.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
      raise UserError(f"expected a uint8 RGB image (H, W, 3), got {image.dtype} {image.shape}")
    height, width = image.shape[:2]
    if not (1 <= min(height, width) and max(height, width) <= bitstream.MAX_SIDE):
      raise UserError(f"image sides must be 1 to {bitstream.MAX_SIDE} pixels, got {height}x{width}")
    stages = self.config.stages if stages is None else stages
    if not self.first_code_stages <= stages <= self.config.stages:
      raise UserError(f"--stages must be between {self.first_code_stages} and "
                      f"{self.config.stages}, not {stages}")
    rows, cols = grid_shape(height, width)
    bits = self._encode(to_blocks(image), rows, cols, scan_order)
    payloads = [entropy.encode_stage(bits[s], cols) if entropy_coded else
                bitstream.pack_bits(bits[s]) for s in range(stages)]
    return bitstream.pack(self.model_id, height, width, self.config.stages, payloads,
                          entropy_coded, self.first_code_stages)

  def _stage_bytes(self, height: int, width: int) -> int:
    return int(np.prod(grid_shape(height, width))) * self.coder_config.bits_per_block // 8

  def parse(self, data: bytes) -> bitstream.Parsed:
    """Checks a file against this model (see `bitstream.parse`)."""
    parsed = bitstream.parse(data, self.model_id, self._stage_bytes)
    if (parsed.model_stages, parsed.first_code_stages) != (self.config.stages,
                                                           self.first_code_stages):
      raise bitstream.BitstreamError(
          f"corrupt R2I file (it declares {parsed.model_stages} stages with a first code of "
          f"{parsed.first_code_stages}, the model has {self.config.stages} and "
          f"{self.first_code_stages})")
    return parsed

  def decode_parsed(self, parsed: bitstream.Parsed,
                    scan_order: str = "wavefront") -> List[np.ndarray]:
    """Every stage's image of a file `parse` has checked, from stage 1.

    For IR2I the images of stages inside the first code are intermediate results: a
    file holds at least the whole first code, which the inpainting needs.
    """
    rows, cols = grid_shape(parsed.height, parsed.width)
    shape = self._code_shape(rows * cols)
    bits = np.stack([entropy.decode_stage(p, shape, cols) if parsed.entropy_coded else
                     bitstream.unpack_bits(p, shape) for p in parsed.payloads])
    images = self._decode(bits, rows, cols, scan_order)
    return [from_blocks(stage, parsed.height, parsed.width) for stage in images]

  def decode_stages(self, data: bytes) -> List[np.ndarray]:
    """Every decodable stage's image, from stage 1 to the last complete one."""
    return self.decode_parsed(self.parse(data))

  def decompress(self, data: bytes, scan_order: str = "wavefront") -> Decoded:
    """The image of the last complete stage in the file."""
    parsed = self.parse(data)
    return Decoded(self.decode_parsed(parsed, scan_order)[-1], len(parsed.payloads),
                   parsed.stages_written)
