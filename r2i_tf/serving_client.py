"""R2I files from a model's bits, wherever they were computed: the client half of the codec.

An R2I codec SavedModel has standard ops only, so it is its own TF Serving model: its
`serving_default` maps a batch of images to every stage's bits. This client packs those
bits into the progressive file format (`r2i_tf.bitstream`), stored as they are or
range-coded with the adaptive model (`r2i_tf.entropy`) or the coder's learned bit model
(`r2i_tf.learned_entropy`), and reads files back into the bits `decode` takes. The
in-process codec (`r2i_tf.saved_codec`) is a client too, over the same SavedModel loaded
locally, so both write the same bytes.
It needs the model's config and id alone (the outputs of its `info` signature), and for
the learned coding the model's bit_model.npz, found by the coder's id.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, List, Mapping, Optional, Sequence, Union

import numpy as np
import tensorflow as tf

from compression_eval import rest, side_tables
from compression_eval.errors import UserError
from compression_eval.images import MAX_PIXELS, check_pixel_count
from r2i_tf import bitstream, entropy, learned_entropy
from r2i_tf.bit_model import FILE_NAME, BitModel
from r2i_tf.blocks import grid_shape
from r2i_tf.config import CODE_SIDE, IR2IConfig, coder_config_from_json

INFO_OUTPUTS = ("config", "model_id")
# How a file's bits are stored: as they are (the paper's rate), or range-coded with the
# adaptive model or the learned one. `entropy_coded` arguments take a name or a bool
# (True: "adaptive", what the flag meant before the learned model).
CODINGS = ("raw", "adaptive", "learned")
Coding = Union[bool, str]


def coding_name(entropy_coded: Coding) -> str:
  """One of CODINGS for an `entropy_coded` argument."""
  if isinstance(entropy_coded, bool):
    return "adaptive" if entropy_coded else "raw"
  if entropy_coded not in CODINGS:
    raise UserError(f"entropy coding must be one of {', '.join(CODINGS)}, not {entropy_coded!r}")
  return entropy_coded


class ServingClient:
  """Writes and reads the files of one R2I or IR2I model."""

  def __init__(self, info: Mapping[str, Any], max_pixels: int = MAX_PIXELS,
               bit_model_folders: Sequence[Path] = (), first_code_stages: Optional[int] = None):
    """`info`: the outputs of the model's `info` signature (tensors, arrays or JSON values);
    files declaring more than `max_pixels` are refused before decoding. The learned bit
    model is looked for, when first needed, in `bit_model_folders` and then in the shipped
    models' folders: the first one trained for this coder's id. `first_code_stages`: the
    IR2I first code this client writes (default the model's); it reads any, from the
    header."""
    self.max_pixels = max_pixels
    self._bit_model_folders = list(bit_model_folders)
    self._bit_model: Optional[BitModel] = None
    try:
      self.config = coder_config_from_json(rest.as_text(np.asarray(info["config"])))
      self.model_id = int(np.asarray(info["model_id"]))
    except (KeyError, TypeError, ValueError) as error:
      raise UserError(f"not the info of an R2I codec SavedModel ({error})") from None
    self.inpainting = isinstance(self.config, IR2IConfig)
    self.coder_config = self.config.coder if self.inpainting else self.config
    self.first_code_stages = self._first_code(first_code_stages)

  def _first_code(self, stages: Optional[int]) -> int:
    """The stages of the first code this client writes: the model's (2 for IR2I, as the
    paper's section 2.2.2) unless `stages` names another; R2I has none beyond stage 1."""
    if stages is None:
      return self.config.first_code_stages if self.inpainting else 1
    if not self.inpainting and stages != 1:
      raise UserError("only IR2I models send a first code of more than one stage")
    if stages not in self._first_codes:
      raise UserError(f"the first code must hold 1 to {self.config.stages} stages, not {stages}")
    return stages

  @property
  def _first_codes(self) -> Sequence[int]:
    """The first codes a file of this model may declare: any stage count for IR2I."""
    return range(1, self.config.stages + 1) if self.inpainting else (1,)

  def use_bit_model(self, model: BitModel) -> None:
    """Codes with `model` (refused unless trained for this coder)."""
    model.check_coder(self.model_id, self.config.stages, self.coder_config.bits_per_block)
    self._bit_model = model

  def bit_model(self) -> BitModel:
    """The learned bit model of this coder, or a one-line `UserError`."""
    if self._bit_model is None:
      self.use_bit_model(side_tables.lookup(
          BitModel.load, lambda model: self.model_id in model.model_ids, FILE_NAME,
          self._bit_model_folders, "learned bit model for this R2I model", self.model_id,
          "scripts/train_bit_model.py"))
    return self._bit_model

  @classmethod
  def from_saved_model(cls, path: str | os.PathLike) -> "ServingClient":
    """The client for a codec SavedModel on this machine."""
    try:
      info = tf.saved_model.load(str(path)).signatures["info"](unused=tf.constant(0))
    except (KeyError, TypeError, ValueError, OSError, tf.errors.OpError) as error:
      raise UserError(f"{path} is not an R2I codec SavedModel ({type(error).__name__})") from None
    return cls({name: value.numpy() for name, value in info.items()})

  def code_shape(self, blocks: int) -> tuple:
    return (blocks, CODE_SIDE, CODE_SIDE, self.coder_config.code_channels)

  def stage_count(self, stages: Optional[int]) -> int:
    """The stages a file keeps: all by default, never fewer than the first code."""
    stages = self.config.stages if stages is None else stages
    if not self.first_code_stages <= stages <= self.config.stages:
      raise UserError(f"--stages must be between {self.first_code_stages} and "
                      f"{self.config.stages}, not {stages}")
    return stages

  def file(self, bits: np.ndarray, height: int, width: int, stages: Optional[int] = None,
           entropy_coded: Coding = False) -> bytes:
    """The file of one image from its bits (stages, blocks, 2, 2, C), first `stages` kept.

    `entropy_coded` (see `coding_name`) range-codes each stage's bits with the adaptive
    or the learned model; otherwise they are stored as they are, the paper's rate.
    """
    coding = coding_name(entropy_coded)
    stages = self.stage_count(stages)
    rows, cols = grid_shape(height, width)
    expected = (self.config.stages,) + self.code_shape(rows * cols)
    if bits.shape != expected:
      raise UserError(f"bits of shape {bits.shape} are not those of a {height}x{width} image "
                      f"for this model {expected}")
    if coding == "learned":
      grid = bits[:stages].reshape(stages, rows, cols, -1)
      payloads = [learned_entropy.encode_stage(self.bit_model(), grid[:s + 1])
                  for s in range(stages)]
    else:
      payloads = [entropy.encode_stage(bits[s], cols) if coding == "adaptive" else
                  bitstream.pack_bits(bits[s]) for s in range(stages)]
    return bitstream.pack(self.model_id, height, width, self.config.stages, payloads,
                          coding != "raw", self.first_code_stages, coding == "learned")

  def files(self, bits: np.ndarray, height: int, width: int, stages: Optional[int] = None,
            entropy_coded: Coding = False) -> List[bytes]:
    """One file per image from a `serving_default` answer (N, stages, blocks, 2, 2, C)."""
    return [self.file(np.asarray(image_bits, np.uint8), height, width, stages, entropy_coded)
            for image_bits in np.asarray(bits)]

  def _stage_bytes(self, height: int, width: int) -> int:
    return int(np.prod(grid_shape(height, width))) * self.coder_config.bits_per_block // 8

  def parse(self, data: bytes) -> bitstream.Parsed:
    """Checks a file against this model (see `bitstream.parse`)."""
    parsed = bitstream.parse(data, self.model_id, self._stage_bytes)
    if (parsed.model_stages != self.config.stages
        or parsed.first_code_stages not in self._first_codes):
      raise bitstream.BitstreamError(
          f"corrupt R2I file (it declares {parsed.model_stages} stages with a first code of "
          f"{parsed.first_code_stages}; the model has {self.config.stages} stages"
          f"{'' if self.inpainting else ' and no first code beyond stage 1'})")
    check_pixel_count(parsed.height, parsed.width, what="the R2I file", limit=self.max_pixels)
    return parsed

  def stage_bits(self, parsed: bitstream.Parsed) -> np.ndarray:
    """The bits (k, blocks, 2, 2, C) of the k complete stages of a parsed file."""
    rows, cols = grid_shape(parsed.height, parsed.width)
    shape = self.code_shape(rows * cols)
    if parsed.learned:
      model = self.bit_model()
      grid = np.zeros((len(parsed.payloads), rows, cols, model.bits), np.uint8)
      for stage, payload in enumerate(parsed.payloads):
        grid[stage] = learned_entropy.decode_stage(model, payload, grid[:stage], rows, cols)
      return grid.reshape((len(parsed.payloads),) + shape)
    return np.stack([entropy.decode_stage(p, shape, cols) if parsed.entropy_coded else
                     bitstream.unpack_bits(p, shape) for p in parsed.payloads])

  def rest_compress_request(self, images: np.ndarray) -> str:
    """The REST body of a `serving_default` request for same-size uint8 images (N, H, W, 3)."""
    return rest.images_request(images)

  def files_from_rest(self, response: str | bytes, height: int, width: int,
                      stages: Optional[int] = None, entropy_coded: Coding = False
                      ) -> List[bytes]:
    """The files of a REST `serving_default` answer for images of height x width."""
    bits = rest.response_outputs(response, ["bits"])["bits"]
    return self.files(bits, height, width, stages, entropy_coded)
