"""How compress time and peak memory grow with image size, up to 2048x3072.

  python benchmarks/scale.py --kodak-dir ../shared/data/kodak

Each codec runs in a fresh process that loads it, codes a 128x128 crop to warm up, then
compresses kodim01 scaled to each size in increasing order: the best time of up to 3
runs within 2 s, and the memory the first run needed above what the process held
(`compression_eval.memory`). "Per megapixel" cost that stays flat means linear growth.
"""
from __future__ import annotations

import multiprocessing
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (  # pylint: disable=wrong-import-position
    DEFAULT_WORK, kodak_paths, publish, table)
from compression_eval.errors import ArgumentParser, run_cli  # pylint: disable=wrong-import-position

SIZES: Tuple[Tuple[int, int], ...] = ((512, 768), (1024, 1536), (2048, 3072))
CODECS = ("deepsic", "r2i", "jpeg2000", "webp")


def _in_child(name: str, image_path: str, sizes: Sequence[Tuple[int, int]],
              work: str) -> List[Dict[str, float]]:
  import numpy as np  # pylint: disable=import-outside-toplevel
  from PIL import Image  # pylint: disable=import-outside-toplevel
  from benchmarks.codec_speed import best_of  # pylint: disable=import-outside-toplevel
  from benchmarks.timed_codecs import make  # pylint: disable=import-outside-toplevel
  from compression_eval import memory  # pylint: disable=import-outside-toplevel
  from compression_eval.images import read_rgb8  # pylint: disable=import-outside-toplevel
  codec = make(name, Path(work))
  original = read_rgb8(image_path)
  results = []
  with tempfile.TemporaryDirectory() as scratch:
    codec.compress(np.ascontiguousarray(original[:128, :128]), Path(scratch) / "warm")
    for height, width in sizes:
      image = original if original.shape[:2] == (height, width) else np.asarray(
          Image.fromarray(original).resize((width, height), Image.LANCZOS))
      total, _, coding = best_of(lambda: codec.compress(image, Path(scratch) / "file"),  # pylint: disable=cell-var-from-loop
                                 budget_s=2.0, most=3)
      results.append({"height": height, "width": width, "compress_s": total,
                      "coding_mb": coding, "peak_mb": memory.peak_mb()})
  return results


def measure(kodak_dir: str, names: Sequence[str] = CODECS,
            sizes: Sequence[Tuple[int, int]] = SIZES, work: Path = DEFAULT_WORK
            ) -> Dict[str, List[Dict[str, float]]]:
  """{codec: [per size: compress_s, peak_mb, coding_mb]} measured in fresh processes."""
  image = str(kodak_paths(kodak_dir, 1)[0])
  context = multiprocessing.get_context("spawn")
  figures = {}
  for name in names:
    with context.Pool(1) as pool:
      figures[name] = pool.apply(_in_child, (name, image, list(sizes), str(work)))
  return figures


def render(figures: Dict[str, List[Dict[str, float]]]) -> str:
  rows = []
  for name, results in figures.items():
    base = results[0]["compress_s"] / (results[0]["height"] * results[0]["width"])
    for result in results:
      pixels = result["height"] * result["width"]
      rows.append([name, f"{result['height']}x{result['width']}", f"{result['compress_s']:.2f}",
                   f"{1e6 * result['compress_s'] / pixels:.3f}",
                   f"{result['compress_s'] / pixels / base:.2f}",
                   f"{result['coding_mb']:.0f}", f"{result['peak_mb']:.0f}"])
  return table("Compress cost against image size (fresh process per codec, 2-core CPU)",
               ["codec", "size", "compress (s)", "s per megapixel", "per-pixel cost vs 512x768",
                "memory for coding (MB)", "process peak (MB)"], rows)


def main(argv: List[str] | None = None) -> int:
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--kodak-dir", required=True)
  parser.add_argument("--json", default=str(DEFAULT_WORK / "scale.json"))
  args = parser.parse_args(sys.argv[1:] if argv is None else argv)
  return publish(measure(args.kodak_dir), render, args.json)


if __name__ == "__main__":
  run_cli(main)
