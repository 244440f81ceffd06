"""Compress and decompress time per Kodak image of DeepSIC codec SavedModels, side by side.

  python benchmarks/deepsic_coding_time.py --kodak-dir ../shared/data/kodak \
      --codec factorized=runs/a/codec --codec mean-scale=runs/b/codec [--images 6]

Each image goes through every codec in turn (so drift on a noisy machine hits them
alike), after one warm-up round trip each; medians over the images, whole files in and
out of memory.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compression_eval.errors import ArgumentParser, UserError, run_cli  # pylint: disable=wrong-import-position


def main(argv: List[str] | None = None) -> int:
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--kodak-dir", default="../shared/data/kodak")
  parser.add_argument("--codec", action="append", required=True, help="NAME=CODEC_DIR")
  parser.add_argument("--images", type=int, default=6)
  args = parser.parse_args(argv)
  from compression_eval.images import read_rgb8  # pylint: disable=import-outside-toplevel
  from deepsic_tf.saved_codec import SavedCodec  # pylint: disable=import-outside-toplevel
  if any("=" not in spec for spec in args.codec):
    raise UserError("--codec takes NAME=CODEC_DIR")
  codecs = {name: SavedCodec(path) for name, path in (spec.split("=", 1) for spec in args.codec)}
  images = [read_rgb8(path) for path in
            sorted(Path(args.kodak_dir).glob("kodim*.png"))[:args.images]]
  if not images:
    raise UserError(f"no kodim*.png in {args.kodak_dir}")
  for codec in codecs.values():
    codec.decompress(codec.compress(images[0]))
  times: Dict[str, Dict[str, List[float]]] = {name: {"compress": [], "decompress": []}
                                              for name in codecs}
  for image in images:
    for name, codec in codecs.items():
      start = time.perf_counter()
      data = codec.compress(image)
      middle = time.perf_counter()
      codec.decompress(data)
      times[name]["compress"].append(middle - start)
      times[name]["decompress"].append(time.perf_counter() - middle)
  for name, spent in times.items():
    print(f"{name:<20} compress {statistics.median(spent['compress']):.3f} s, decompress "
          f"{statistics.median(spent['decompress']):.3f} s (median of {len(images)} images)")
  return 0


if __name__ == "__main__":
  run_cli(main)
