"""DeepSIC as a codec of `compression_eval`, so Kodak evaluation treats it like JPEG.

`scripts/evaluate_kodak.py --codecs jpeg,deepsic:PATH` loads the codec SavedModel at
PATH (`--codecs jpeg,deepsic-post-q2`: a shipped model's, exported once into the cache);
one trained model is one rate-distortion point, whose rate is the size of the whole
file (header and, for pre-semantic models, the label included).
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

  def __init__(self, path: str, codec: Optional[SavedCodec] = None):
    """`codec`: the codec of the model at `path` already loaded (`SavedCodec.of_model`)."""
    self.codec = codec or SavedCodec(path)
    config = self.codec.config
    self.name = f"deepsic-{config.architecture}-{Path(path).resolve().parent.name}"
    self.description = (f"DeepSIC {config.architecture}-semantic, {config.filters} filters, "
                        f"{config.bottleneck_channels} code channels, subsampling "
                        f"{'x'.join(map(str, config.subsampling))}, model at {path}")

  def files(self, image: np.ndarray) -> List[Tuple[str, bytes]]:
    """The model's one file of `image`: one model is one setting."""
    return [(self.name, self.codec.compress(image))]

  def decode(self, data: bytes) -> np.ndarray:
    return self.codec.decompress(data).image

  def roundtrips(self, image: np.ndarray) -> List[Roundtrip]:
    start = time.perf_counter()
    data = self.codec.compress(image)
    encoded = time.perf_counter()
    decoded = self.codec.decompress(data)
    finished = time.perf_counter()
    return [Roundtrip(self.name, 8 * len(data), decoded.image, encoded - start,
                      finished - encoded)]

