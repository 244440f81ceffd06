"""DeepSIC as a codec of `compression_eval`, so Kodak evaluation treats it like JPEG.

`scripts/evaluate_kodak.py --codecs jpeg,deepsic:PATH` loads the codec SavedModel at
PATH (`--codecs jpeg,deepsic-post-q2`: a shipped model's, exported once into the cache);
one trained model is one rate-distortion point, whose rate is the size of the whole
file (header and, for pre-semantic models, the label included). `deepsic-context:PATH`
is the same model with its code context-coded (`deepsic_tf.context_coding`): the same
pixels, fewer bits.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np

from compression_eval.codecs import Roundtrip
from deepsic_tf.family import FAMILY
from deepsic_tf.saved_codec import SavedCodec


class DeepSICEvalCodec:
  """One exported DeepSIC model, evaluated through its files."""
  extension = FAMILY.extension

  def __init__(self, path: str, codec: Optional[SavedCodec] = None,
               context_coded: bool = False):
    """`codec`: the codec of the model at `path` already loaded (`SavedCodec.of_model`);
    `context_coded`: files of the context-adaptive coder (the model's tables needed)."""
    self.codec = codec or SavedCodec(path)
    self.context_coded = context_coded
    if context_coded:
      self.codec.context_tables()  # missing tables are refused before any image
    config = self.codec.config
    suffix = "-context" if context_coded else ""
    self.name = f"deepsic-{config.architecture}{suffix}-{Path(path).resolve().parent.name}"
    self.description = (f"DeepSIC {config.architecture}-semantic, {config.filters} filters, "
                        f"{config.bottleneck_channels} code channels, subsampling "
                        f"{'x'.join(map(str, config.subsampling))}, "
                        f"{'context-coded' if context_coded else 'its own entropy model'}, "
                        f"model at {path}")

  def files(self, image: np.ndarray) -> List[Tuple[str, bytes]]:
    """The model's one file of `image`: one model is one setting."""
    return [(self.name, self.codec.compress(image, self.context_coded))]

  def decode(self, data: bytes) -> np.ndarray:
    return self.codec.decompress(data).image

  def roundtrips(self, image: np.ndarray) -> List[Roundtrip]:
    start = time.perf_counter()
    data = self.codec.compress(image, self.context_coded)
    encoded = time.perf_counter()
    decoded = self.codec.decompress(data)
    finished = time.perf_counter()
    return [Roundtrip(self.name, 8 * len(data), decoded.image, encoded - start,
                      finished - encoded)]



def context_coded_codec(path: str) -> DeepSICEvalCodec:
  """`deepsic-context:PATH`: the model at PATH, its code context-coded."""
  return DeepSICEvalCodec(path, context_coded=True)
