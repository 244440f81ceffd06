"""Using an exported R2I or IR2I codec: images in, progressive files out, and back.

The SavedModel (see `r2i_tf.codec`) runs the networks on batches of blocks; this
wrapper pads and cuts images into blocks, packs the stages into files with
`r2i_tf.serving_client` (as a TF Serving client does) and maps bad input to one-line
`UserError`s. Blocks go through the
networks in chunks, so memory stays bounded on large images. An IR2I codec first
inpaints and codes the blocks in scan order (`r2i_tf.scan`: wavefront or raster, same
bytes and pixels); the stages after the first code then decode all blocks at once.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import numpy as np
import tensorflow as tf

from compression_eval.errors import UserError
from compression_eval.images import MAX_PIXELS
from r2i_tf import bitstream, scan
from r2i_tf.blocks import from_blocks, grid_shape, to_blocks
from r2i_tf.serving_client import Coding, ServingClient, coding_name

if TYPE_CHECKING:  # the model classes load Keras layers, which reading files does not need
  from r2i_tf.codec import Coder

BLOCKS_PER_CALL = 1024  # 32x32 blocks per network call: 1M pixels, a few hundred MB of activations


@dataclasses.dataclass(frozen=True)
class Decoded:
  image: np.ndarray  # uint8 (H, W, 3), the reconstruction of the last decoded stage
  stages: int  # stages decoded (fewer than written if the file was cut short)
  stages_written: int


class SavedCodec:
  """A loaded R2I or IR2I codec SavedModel."""

  def __init__(self, path: str | os.PathLike, blocks_per_call: int = BLOCKS_PER_CALL,
               max_pixels: int = MAX_PIXELS, first_code_stages: Optional[int] = None):
    """`blocks_per_call` bounds the networks' working memory; it changes no byte or pixel
    (each block is coded on its own). Files declaring more than `max_pixels` are refused
    before decoding. `first_code_stages` (IR2I): the stages whose reconstruction is the
    inpainting context of the files this codec writes, sent together as the first code
    (default the model's: 2, the paper's); files are decoded with the one they declare."""
    path = Path(path)
    if not (path / "saved_model.pb").is_file():
      raise UserError(f"no R2I codec SavedModel at {path} (expected {path}/saved_model.pb; "
                      "train one with scripts/train_r2i.py)")
    try:
      self._module = tf.saved_model.load(str(path))
      info = self._module.signatures["info"](unused=tf.constant(0))
    except (KeyError, TypeError, ValueError, OSError, tf.errors.OpError) as error:
      raise UserError(f"{path} is not an R2I codec SavedModel ({type(error).__name__})") from None
    self._start(path, info, blocks_per_call, max_pixels, first_code_stages)

  @classmethod
  def of_model(cls, model: Coder, blocks_per_call: int = BLOCKS_PER_CALL,
               max_pixels: int = MAX_PIXELS, first_code_stages: Optional[int] = None
               ) -> "SavedCodec":
    """The same codec run in this process from a model's weights, without exporting: the
    module the SavedModel would hold, called directly."""
    from r2i_tf.codec import codec_module  # pylint: disable=import-outside-toplevel
    codec = cls.__new__(cls)
    codec._module = codec_module(model)
    codec._module.trace()  # `decode` for every stage count, any number of blocks
    codec._start(None, codec._module.info(tf.constant(0)), blocks_per_call, max_pixels,
                 first_code_stages)
    return codec

  def _start(self, path: Optional[Path], info: dict, blocks_per_call: int,
             max_pixels: int, first_code_stages: Optional[int]) -> None:
    self.path = path
    self._chunk = blocks_per_call
    self.client = ServingClient({name: value.numpy() for name, value in info.items()},
                                max_pixels, [] if path is None else [path, path.parent],
                                first_code_stages)
    self.config = self.client.config
    self.model_id = self.client.model_id
    self.inpainting = self.client.inpainting
    self.coder_config = self.client.coder_config
    self.first_code_stages = self.client.first_code_stages
    self.network_seconds = 0.0  # time inside the networks, for benchmarks/run_all.py

  def _run(self, function: str, output: str, *inputs: np.ndarray) -> np.ndarray:
    """One call of a SavedModel function; its time counts towards `network_seconds`."""
    begin = time.perf_counter()
    result = getattr(self._module, function)(*map(tf.constant, inputs))[output].numpy()
    self.network_seconds += time.perf_counter() - begin
    return result

  def _inpaint(self, contexts: np.ndarray) -> np.ndarray:
    return self._run("inpaint", "inpainting", contexts)

  def _decode_first(self, bits: np.ndarray, inpaintings: np.ndarray, stages: int
                    ) -> np.ndarray:
    """The uint8 reconstruction of a first code of `stages` stages from its bits (extra
    stages are ignored)."""
    return self._run("decode", "images", bits[:stages], inpaintings)[-1]

  def _encode(self, blocks: np.ndarray, rows: int, cols: int, scan_order: str) -> np.ndarray:
    """Every stage's bits (stages, N, 2, 2, C) of an image's blocks."""
    if not self.inpainting:
      return np.concatenate([self._run("encode", "bits", blocks[i:i + self._chunk])
                             for i in range(0, len(blocks), self._chunk)], axis=1)

    def encode(group: np.ndarray, inpaintings: np.ndarray) -> np.ndarray:
      return self._run("encode", "bits", group, inpaintings)

    return scan.encode_blocks(blocks, rows, cols, scan_order, self._inpaint, encode,
                              functools.partial(self._decode_first,
                                                stages=self.first_code_stages))[0]

  def _decode(self, bits: np.ndarray, rows: int, cols: int, scan_order: str,
              first_code_stages: int, last_only: bool = False) -> np.ndarray:
    """Every stage's uint8 blocks (k, N, 32, 32, 3) from k stages' bits (k, N, 2, 2, C)
    of a file whose first code holds `first_code_stages`; with `last_only`, the last
    stage's alone (1, N, 32, 32, 3), which is all a large image's decompress keeps."""
    inpaintings = None
    if self.inpainting:
      inpaintings = scan.decode_inpaintings(
          bits[:first_code_stages], rows, cols, scan_order, self._inpaint,
          functools.partial(self._decode_first, stages=first_code_stages))
    chunks = []
    for i in range(0, bits.shape[1], self._chunk):
      extra = () if inpaintings is None else (inpaintings[i:i + self._chunk],)
      images = self._run("decode", "images", bits[:, i:i + self._chunk], *extra)
      chunks.append(images[-1:].copy() if last_only else images)  # not a view of all k
    return np.concatenate(chunks, axis=1)

  def compress(self, image: np.ndarray, stages: Optional[int] = None,
               entropy_coded: Coding = False, scan_order: str = "wavefront") -> bytes:
    """A uint8 RGB image to the bytes of a file with its first `stages` stages (default all).

    `entropy_coded` ("adaptive" or True, "learned"; see `serving_client.coding_name`)
    range-codes each stage's bits; otherwise they are stored as they are, the paper's
    rate. A codec's learned bit model is its folder's (or its run's) bit_model.npz, or a
    shipped one trained for it. `scan_order` (IR2I only) changes the time, not the bytes.
    """
    stages = self.client.stage_count(stages)  # checked before the networks run
    if coding_name(entropy_coded) == "learned":
      self.client.bit_model()  # a missing one is refused before the networks run
    bits = self.bits(image, scan_order)
    return self.client.file(bits, *np.shape(image)[:2], stages, entropy_coded)

  def bits(self, image: np.ndarray, scan_order: str = "wavefront") -> np.ndarray:
    """Every stage's bits (stages, blocks, 2, 2, C) of a uint8 RGB image, blocks in raster order."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
      raise UserError(f"expected a uint8 RGB image (H, W, 3), got {image.dtype} {image.shape}")
    height, width = image.shape[:2]
    if not (1 <= min(height, width) and max(height, width) <= bitstream.MAX_SIDE):
      raise UserError(f"image sides must be 1 to {bitstream.MAX_SIDE} pixels, got {height}x{width}")
    rows, cols = grid_shape(height, width)
    return self._encode(to_blocks(image), rows, cols, scan_order)

  def parse(self, data: bytes) -> bitstream.Parsed:
    """Checks a file against this model (see `bitstream.parse`)."""
    return self.client.parse(data)

  def decode_parsed(self, parsed: bitstream.Parsed, scan_order: str = "wavefront",
                    last_only: bool = False) -> List[np.ndarray]:
    """Every stage's image of a file `parse` has checked, from stage 1 (or the last's alone).

    For IR2I the images of stages inside the first code are intermediate results: a
    file holds at least the whole first code, which the inpainting needs.
    """
    return self.decode_bits(self.client.stage_bits(parsed), parsed.height, parsed.width,
                            parsed.first_code_stages, scan_order, last_only)

  def decode_bits(self, bits: np.ndarray, height: int, width: int, first_code_stages: int,
                  scan_order: str = "wavefront", last_only: bool = False) -> List[np.ndarray]:
    """Every stage's image (or the last's alone) of a height x width image from the bits
    (k, blocks, 2, 2, C) of its first k stages, as a file's entropy decoding gives them."""
    rows, cols = grid_shape(height, width)
    images = self._decode(bits, rows, cols, scan_order, first_code_stages, last_only)
    return [from_blocks(stage, height, width) for stage in images]

  def decode_stages(self, data: bytes) -> List[np.ndarray]:
    """Every decodable stage's image, from stage 1 to the last complete one."""
    return self.decode_parsed(self.parse(data))

  def decompress(self, data: bytes, scan_order: str = "wavefront") -> Decoded:
    """The image of the last complete stage in the file."""
    parsed = self.parse(data)
    image = self.decode_parsed(parsed, scan_order, last_only=True)[0]
    return Decoded(image, len(parsed.payloads), parsed.stages_written)
