"""File bits against the entropy model's estimate: what the format and range coder add.

  python benchmarks/rate_accounting.py --kodak-dir ../shared/data/kodak [--images 6]

DeepSIC: the bits of the file against the prior's -log2 likelihood of the same code
(the rate the model trains on). R2I, entropy-coded: against the ideal code length of
the adaptive bit model (`r2i_tf.entropy.ideal_bits`). R2I, raw: against 128 bits per
block per stage. The overhead ratio is file / estimate - 1 (headers, checksums, stage
tables and the range coder's own loss), summed over the images.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (  # pylint: disable=wrong-import-position
    DEFAULT_WORK, MODELS, REPO, export, kodak_paths, publish, table)
from compression_eval.errors import ArgumentParser, run_cli  # pylint: disable=wrong-import-position

DEFAULT_IMAGES = 6


def measure(kodak_dir: str, images: int, work: Path = DEFAULT_WORK) -> Dict[str, Any]:
  """{coder: {file_bits, estimate_bits, overhead}} summed over the first `images` images."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from compression_zoo import zoo  # pylint: disable=import-outside-toplevel
  from compression_eval.images import read_rgb8  # pylint: disable=import-outside-toplevel
  from compression_eval.padding import pad_to_multiple  # pylint: disable=import-outside-toplevel
  from deepsic_tf.saved_codec import SavedCodec as DeepSICCodec  # pylint: disable=import-outside-toplevel
  from r2i_tf import entropy  # pylint: disable=import-outside-toplevel
  from r2i_tf.blocks import grid_shape  # pylint: disable=import-outside-toplevel
  from r2i_tf.saved_codec import SavedCodec as R2ICodec  # pylint: disable=import-outside-toplevel

  deepsic_model = zoo.load(REPO / "saved_models" / MODELS["deepsic"], "deepsic")
  deepsic = DeepSICCodec(export("deepsic", work))
  r2i = R2ICodec(export("r2i", work))
  totals = {coder: {"file_bits": 0, "estimate_bits": 0.0}
            for coder in ("deepsic", "r2i-entropy-coded", "r2i-raw")}

  def add(coder: str, data: bytes, estimate: float) -> None:
    totals[coder]["file_bits"] += 8 * len(data)
    totals[coder]["estimate_bits"] += estimate

  for path in kodak_paths(kodak_dir, images):
    image = read_rgb8(path)
    padded = pad_to_multiple(tf.constant(image), deepsic_model.config.total_stride, row_axis=0)
    bits, _ = deepsic_model.rate_and_logits(tf.cast(padded, tf.float32)[tf.newaxis] / 255.0)
    add("deepsic", deepsic.compress(image), float(tf.reduce_sum(bits)))
    cols = grid_shape(*image.shape[:2])[1]
    stage_bits = r2i.bits(image)
    add("r2i-entropy-coded", r2i.compress(image, entropy_coded=True),
        sum(entropy.ideal_bits(stage, cols) for stage in stage_bits))
    add("r2i-raw", r2i.compress(image), float(np.prod(stage_bits.shape)))
  for figures in totals.values():
    figures["overhead"] = figures["file_bits"] / figures["estimate_bits"] - 1.0
    figures["images"] = images
  return totals


def render(figures: Dict[str, Any]) -> str:
  labels = {"deepsic": f"DeepSIC ({MODELS['deepsic']}) vs the prior's estimate",
            "r2i-entropy-coded": f"R2I range-coded ({MODELS['r2i']}) vs the adaptive model's "
                                 "ideal length",
            "r2i-raw": "R2I raw bits vs 128 bits / block / stage"}
  rows = [[labels[coder], f"{row['file_bits']:,}", f"{row['estimate_bits']:,.0f}",
           f"{100 * row['overhead']:+.2f} %"] for coder, row in figures.items()]
  images = next(iter(figures.values()))["images"]
  return table(f"Rate accounting on {images} Kodak images (target: within 2 %)",
               ["file against", "file bits", "estimate (bits)", "overhead"], rows)


def main(argv: List[str] | None = None) -> int:
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--kodak-dir", required=True)
  parser.add_argument("--images", type=int, default=DEFAULT_IMAGES)
  parser.add_argument("--json", default=str(DEFAULT_WORK / "rate_accounting.json"))
  args = parser.parse_args(sys.argv[1:] if argv is None else argv)
  return publish(measure(args.kodak_dir, args.images), render, args.json)


if __name__ == "__main__":
  run_cli(main)
