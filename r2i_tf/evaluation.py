"""R2I and IR2I as codecs of `compression_eval`: one encode, one RD point per stage.

`scripts/evaluate_kodak.py --codecs jpeg,r2i:PATH` loads the codec SavedModel at PATH.
Stage k's rate is the size of the file `--stages k` would write (header included); its
quality is that file's decoded image. The paper's nominal rate (0.125 bpp per stage)
is the same up to the header and the padding of sizes that are not multiples of 32.
IR2I's first point is its first code (stages 1-2, the paper's): no file holds less;
`r2i-first1:PATH` (and `r2i-learned-first1:PATH`) codes IR2I with a first code of stage 1
alone, whose reconstruction is then the inpainting context (beyond the paper).
`r2i-ec:PATH` is the same model with its bits range-coded with the adaptive model
(`r2i_tf.entropy`), `r2i-learned:PATH` with its learned bit model (`r2i_tf.bit_model`):
same images, fewer bytes, each reported as a curve of its own beside the paper's
uncoded rate.

Codings of one model share its networks. Measured one after the other on an image in one
process (`compression_zoo.evaluate.evaluate_codecs`), the first runs the networks and the
others reuse that pass: each writes its own file from the same bits, decodes the file's
bits back (checked equal to those it was written from) and takes the reconstructions the
networks made of those bits. Their coding times are the networks' measured seconds plus
their own entropy coding's, as a whole encode or decode would spend them.
"""
from __future__ import annotations

import dataclasses
import hashlib
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from compression_eval.codecs import Roundtrip
from r2i_tf import bitstream
from r2i_tf.config import first_code_suffix
from r2i_tf.family import FAMILY
from r2i_tf.saved_codec import SavedCodec
from r2i_tf.serving_client import Coding, coding_name

_CODINGS = {"raw": ("", "uncoded bits"),
            "adaptive": ("-entropy-coded", "range-coded bits (adaptive model)"),
            "learned": ("-learned", "range-coded bits (learned bit model)")}


@dataclasses.dataclass(frozen=True)
class _NetworkPass:
  """The networks' work on one image, the same for every coding of its bits."""
  bits: np.ndarray  # every stage's (stages, blocks, 2, 2, C)
  encode_seconds: float  # in the encoder's networks
  reconstructions: List[np.ndarray]  # every stage's uint8 image
  decode_seconds: float  # in the decoder's networks


# This process's passes on the image it measured last, by (image digest, model folder,
# first code stages); a new image drops them (one image's are all a group reuses).
_passes: Dict[Tuple[bytes, str, int], _NetworkPass] = {}


def _pass_key(image: np.ndarray, codec: SavedCodec) -> Optional[Tuple[bytes, str, int]]:
  """The key of this codec's pass on this image; None for a codec with no folder (a model
  in memory), whose passes are not shared."""
  if codec.path is None:
    return None
  digest = hashlib.blake2b(str(image.shape).encode() + image.tobytes(), digest_size=16).digest()
  return digest, str(Path(codec.path).resolve()), codec.first_code_stages


class R2IEvalCodec:
  """One exported R2I model, evaluated stage by stage through its files."""
  extension = FAMILY.extension

  def __init__(self, path: str, entropy_coded: Coding = False,
               codec: Optional[SavedCodec] = None, first_code_stages: Optional[int] = None):
    """`codec`: the codec of the model at `path` already loaded (`SavedCodec.of_model`);
    `entropy_coded`: see `serving_client.coding_name`; `first_code_stages`: IR2I's first
    code when not the model's (its curve is named with `-first<k>`)."""
    self.codec = codec or SavedCodec(path, first_code_stages=first_code_stages)
    self.entropy_coded = coding_name(entropy_coded)
    suffix, coding = _CODINGS[self.entropy_coded]
    if self.entropy_coded == "learned":
      self.codec.client.bit_model()  # a missing one is refused before any image is coded
    config = self.codec.config
    run = Path(path).resolve().parent.name  # RUN/codec: named after its run folder
    name = run if run.startswith(f"r2i-{config.variant}") else f"r2i-{config.variant}-{run}"
    first = self.codec.first_code_stages
    if self.codec.inpainting and first != config.first_code_stages:
      name += first_code_suffix(first)
    self.name = name + suffix
    kind = (f"IR2I ({'joint' if config.variant == 'ir2i' else 'separately trained'} "
            f"inpainting, first code of {first} stage{'s' * (first > 1)})"
            if self.codec.inpainting else
            f"R2I ({config.variant} connections; 'residual' is the residual encoder)")
    self.description = (f"{kind}, {config.stages} stages of "
                        f"{self.codec.coder_config.bits_per_block} bits per 32x32 block, "
                        f"{coding}, model at {path}")

  def files(self, image: np.ndarray) -> List[Tuple[int, bytes]]:
    """For every stage count a file can hold: that file, as `--stages k` writes it (the
    networks run once)."""
    height, width = image.shape[:2]
    bits = self.codec.bits(image)
    client = self.codec.client
    return [(stages, client.file(bits, height, width, stages, self.entropy_coded))
            for stages in range(client.first_code_stages, client.config.stages + 1)]

  def decode(self, data: bytes) -> np.ndarray:
    return self.codec.decompress(data).image

  def roundtrips(self, image: np.ndarray) -> List[Roundtrip]:
    height, width = image.shape[:2]
    key = _pass_key(image, self.codec)
    if key is not None and any(known[0] != key[0] for known in _passes):
      _passes.clear()
    shared = _passes.get(key) if key is not None else None
    start = time.perf_counter()
    bits = self.codec.bits(image) if shared is None else shared.bits
    networks_encoded = time.perf_counter()
    data = self.codec.client.file(bits, height, width, None, self.entropy_coded)
    encoded = time.perf_counter()
    parsed = self.codec.parse(data)
    stage_bits = self.codec.client.stage_bits(parsed)
    bits_decoded = time.perf_counter()
    if shared is None:
      reconstructions = self.codec.decode_bits(stage_bits, height, width,
                                               parsed.first_code_stages)
      shared = _NetworkPass(bits, networks_encoded - start, reconstructions,
                            time.perf_counter() - bits_decoded)
      if key is not None:
        _passes[key] = shared
    elif not np.array_equal(stage_bits, shared.bits[:len(stage_bits)]):
      raise RuntimeError(f"{self.name}: the file's bits differ from those it was written from")
    encode_seconds = shared.encode_seconds + (encoded - networks_encoded)
    decode_seconds = (bits_decoded - encoded) + shared.decode_seconds
    return [Roundtrip(stage, 8 * size, reconstruction, encode_seconds, decode_seconds)
            for stage, (size, reconstruction) in enumerate(
                zip(bitstream.sizes_by_stage(parsed), shared.reconstructions), start=1)
            if stage >= parsed.first_code_stages]
