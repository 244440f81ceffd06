"""Raster vs wavefront scan for IR2I's first code: compress and decompress time, one run.

  python benchmarks/ir2i_scan.py --model runs/r2i-ir2i/codec --image ../shared/data/kodak/kodim01.png

The first code (stages 1-2) of every block depends on the decoded blocks above and to
the left. The raster scan makes one network call per block (384 for 768x512); the
wavefront scan one per anti-diagonal (39). Both are timed here on the same image in the
same process, interleaved, so their ratio holds on a noisy machine; the script also
checks that they write the same bytes and decode the same pixels. Prints a table;
`--json PATH` also writes the figures.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compression_eval.errors import ArgumentParser, UserError, run_cli  # pylint: disable=wrong-import-position
from compression_eval.fileio import atomic_write_text  # pylint: disable=wrong-import-position
from compression_eval.images import read_rgb8  # pylint: disable=wrong-import-position

SCANS = ("raster", "wavefront")


def _seconds(call: Callable[[], object]) -> float:
  start = time.perf_counter()
  call()
  return time.perf_counter() - start


def main(argv: List[str] | None = None) -> int:
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--model", required=True, help="an IR2I codec SavedModel (RUN/codec)")
  parser.add_argument("--image", required=True, help="the image to code (e.g. a Kodak PNG)")
  parser.add_argument("--repeats", type=int, default=3, help="timed runs per scan (median)")
  parser.add_argument("--json", help="also write the figures to this JSON file")
  args = parser.parse_args(sys.argv[1:] if argv is None else argv)
  if args.repeats < 1:
    raise UserError("--repeats must be at least 1")
  image = read_rgb8(args.image)

  import numpy as np  # pylint: disable=import-outside-toplevel
  from r2i_tf.blocks import grid_shape  # pylint: disable=import-outside-toplevel
  from r2i_tf.saved_codec import SavedCodec  # pylint: disable=import-outside-toplevel
  from r2i_tf.scan import scan_groups  # pylint: disable=import-outside-toplevel
  codec = SavedCodec(args.model)
  if not codec.inpainting:
    raise UserError(f"{args.model} is an R2I codec without inpainting: nothing to scan")

  rows, cols = grid_shape(*image.shape[:2])
  files = {scan: codec.compress(image, scan_order=scan) for scan in SCANS}  # also warms up
  pixels = {scan: codec.decompress(files[scan], scan).image for scan in SCANS}
  identical = (files["raster"] == files["wavefront"]
               and np.array_equal(pixels["raster"], pixels["wavefront"]))
  figures: Dict[str, Dict[str, List[float]]] = {
      scan: {"compress": [], "decompress": []} for scan in SCANS}
  for _ in range(args.repeats):  # interleaved: drift on the machine hits both scans alike
    for scan in SCANS:
      figures[scan]["compress"].append(
          _seconds(lambda scan=scan: codec.compress(image, scan_order=scan)))
      figures[scan]["decompress"].append(
          _seconds(lambda scan=scan: codec.decompress(files[scan], scan)))
  summary = {scan: {"network_calls_first_code": len(scan_groups(rows, cols, scan)),
                    **{step: statistics.median(times) for step, times in figures[scan].items()}}
             for scan in SCANS}
  height, width = image.shape[:2]
  print(f"IR2I first-code scan on {Path(args.image).name} ({width}x{height}, {rows * cols} "
        f"blocks), median of {args.repeats}; identical bytes and pixels: {identical}")
  print("| scan | first-code groups | compress (s) | decompress (s) |")
  print("|---|---|---|---|")
  for scan in SCANS:
    row = summary[scan]
    print(f"| {scan} | {row['network_calls_first_code']} | {row['compress']:.2f} | "
          f"{row['decompress']:.2f} |")
  speedup = {step: summary["raster"][step] / summary["wavefront"][step]
             for step in ("compress", "decompress")}
  print(f"wavefront speed-up: compress {speedup['compress']:.1f}x, "
        f"decompress {speedup['decompress']:.1f}x")
  if args.json:
    atomic_write_text(args.json, json.dumps(
        {"image": args.image, "size": [height, width], "identical": identical,
         "scans": summary, "speedup": speedup}, indent=2) + "\n")
  return 0 if identical else 1


if __name__ == "__main__":
  run_cli(main)
