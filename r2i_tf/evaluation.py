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
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import List, Optional, Tuple

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
    start = time.perf_counter()
    data = self.codec.compress(image, entropy_coded=self.entropy_coded)
    encoded = time.perf_counter()
    parsed = self.codec.parse(data)
    reconstructions = self.codec.decode_parsed(parsed)
    decode_seconds = time.perf_counter() - encoded
    return [Roundtrip(stage, 8 * size, reconstruction, encoded - start, decode_seconds)
            for stage, (size, reconstruction) in enumerate(
                zip(bitstream.sizes_by_stage(parsed), reconstructions), start=1)
            if stage >= parsed.first_code_stages]

