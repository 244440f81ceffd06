"""Per-image compress and decompress time on Kodak, and the share outside the transforms.

  python benchmarks/codec_speed.py --kodak-dir ../shared/data/kodak [--images 6]

Every codec codes every image in turn (image 1 through all codecs, then image 2, ...),
so drift on a noisy machine hits all codecs alike and their ratios hold. Compress is
image array to file on disk, decompress file on disk to image array; "outside" is the
part of that time not spent in the neural transforms (range coding, packing, checks,
blocks, the IR2I scan's bookkeeping, file I/O). Medians over the images; peak memory is
the most any one call needed above what the process held before it.
"""
from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (  # pylint: disable=wrong-import-position
    DEFAULT_WORK, kodak_paths, median, publish, table)
from benchmarks.timed_codecs import Split  # pylint: disable=wrong-import-position
from compression_eval import memory  # pylint: disable=wrong-import-position
from compression_eval.errors import (  # pylint: disable=wrong-import-position
    ArgumentParser, UserError, run_cli)

DEFAULT_IMAGES = 6


def best_of(call: Callable[[], Split], budget_s: float = 0.5, most: int = 5
            ) -> Tuple[float, float, float]:
  """(total s, transforms s, peak MB) of a coding call: times are the minimum over repeats
  (as many as fit in `budget_s`, at most `most`), so that a 30 ms call is not one sample
  of the machine's noise; memory is the first call's peak above what was resident."""
  memory.reset_peak()
  before = memory.resident_mb()
  runs = [call()]
  peak = memory.peak_mb() - before
  while len(runs) < most and sum(total for total, _ in runs) < budget_s:
    runs.append(call())
  return min(total for total, _ in runs), min(net for _, net in runs), peak


def measure(kodak_dir: str, images: int, names: List[str], work: Path = DEFAULT_WORK
            ) -> Dict[str, Any]:
  """{codec: {setting, bpp, compress_s, decompress_s, outside_compress, outside_decompress,
  peak_mb}}."""
  from benchmarks import timed_codecs  # pylint: disable=import-outside-toplevel
  from compression_eval.images import read_rgb8  # pylint: disable=import-outside-toplevel
  codecs = {name: timed_codecs.make(name, work) for name in names}
  paths = kodak_paths(kodak_dir, images)
  runs: Dict[str, Dict[str, List[float]]] = {name: {key: [] for key in (
      "bpp", "compress", "compress_net", "decompress", "decompress_net", "peak_mb")}
      for name in names}
  with tempfile.TemporaryDirectory() as scratch:
    warm = read_rgb8(paths[0])
    for name, codec in codecs.items():  # traces graphs and fills caches, untimed
      codec.compress(warm, Path(scratch) / name)
      codec.decompress(Path(scratch) / name)
    for path in paths:
      image = read_rgb8(path)
      for name, codec in codecs.items():
        file = Path(scratch) / name
        run = runs[name]
        total, net, peak = best_of(lambda: codec.compress(image, file))  # pylint: disable=cell-var-from-loop
        run["bpp"].append(8 * file.stat().st_size / (image.shape[0] * image.shape[1]))
        run["compress"].append(total)
        run["compress_net"].append(net)
        run["peak_mb"].append(peak)
        total, net, peak = best_of(lambda: codec.decompress(file))  # pylint: disable=cell-var-from-loop
        run["decompress"].append(total)
        run["decompress_net"].append(net)
        run["peak_mb"].append(peak)
  return {name: _summary(codecs[name], runs[name]) for name in names}


def _summary(codec, run: Dict[str, List[float]]) -> Dict[str, Any]:
  def outside(step: str) -> float:
    shares = [1.0 - net / total for net, total in zip(run[f"{step}_net"], run[step])]
    return median(shares) if not any(math.isnan(share) for share in shares) else math.nan
  return {"codec": codec.name, "setting": codec.setting, "images": len(run["bpp"]),
          "bpp": sum(run["bpp"]) / len(run["bpp"]), "compress_s": median(run["compress"]),
          "decompress_s": median(run["decompress"]), "outside_compress": outside("compress"),
          "outside_decompress": outside("decompress"), "peak_mb": max(run["peak_mb"])}


def render(figures: Dict[str, Any]) -> str:
  rows = []
  for summary in figures.values():
    share = lambda value: "n/a" if math.isnan(value) else f"{100 * value:.1f} %"
    rows.append([summary["codec"], summary["setting"], f"{summary['bpp']:.3f}",
                 f"{summary['compress_s']:.3f}", f"{summary['decompress_s']:.3f}",
                 share(summary["outside_compress"]), share(summary["outside_decompress"]),
                 f"{summary['peak_mb']:.0f}"])
  images = next(iter(figures.values()))["images"]
  return table(f"Codec speed on Kodak (768x512), median of {images} images (each the best "
               "of up to 5 runs within 0.5 s), 2-core CPU",
               ["codec", "model / setting", "bpp", "compress (s)", "decompress (s)",
                "outside transforms, compress", "outside transforms, decompress",
                "peak memory (MB)"], rows)


def main(argv: List[str] | None = None) -> int:
  from benchmarks.timed_codecs import CODECS  # pylint: disable=import-outside-toplevel
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--kodak-dir", required=True)
  parser.add_argument("--images", type=int, default=DEFAULT_IMAGES,
                      help=f"Kodak images, in name order (default {DEFAULT_IMAGES}; 24 for all)")
  parser.add_argument("--codecs", default=",".join(CODECS), help="comma-separated subset")
  parser.add_argument("--json", default=str(DEFAULT_WORK / "codec_speed.json"))
  args = parser.parse_args(sys.argv[1:] if argv is None else argv)
  names = [name for name in args.codecs.split(",") if name]
  unknown = sorted(set(names) - set(CODECS))
  if unknown or args.images < 1:
    raise UserError(f"unknown codecs {unknown}; choose from {sorted(CODECS)}" if unknown
                    else "--images must be at least 1")
  return publish(measure(args.kodak_dir, args.images, names), render, args.json)


if __name__ == "__main__":
  run_cli(main)
