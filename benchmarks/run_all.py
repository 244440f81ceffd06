"""Every benchmark in one run, with the project's performance targets checked.

  python benchmarks/run_all.py [--kodak-dir ../shared/data/kodak]
                               [--imagenet-dir ../shared/data/imagenette] [--images 6]

Runs codec speed, rate accounting, training input and scale one after the other on the
same machine, prints their tables and a targets table, and writes all figures to
OUTPUT/benchmarks.json and the tables to OUTPUT/benchmarks.md. Exit status 0 whether or
not targets are met: the figures are the result.
"""
from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import codec_speed, rate_accounting, scale, training_input  # pylint: disable=wrong-import-position
from benchmarks.common import DEFAULT_WORK, REPO, table, write_json  # pylint: disable=wrong-import-position
from benchmarks.timed_codecs import CODECS  # pylint: disable=wrong-import-position
from compression_eval.errors import ArgumentParser, UserError, run_cli  # pylint: disable=wrong-import-position
from compression_eval.fileio import atomic_write_text, ensure_dir  # pylint: disable=wrong-import-position

SHARED = REPO.parent / "shared" / "data"
LEARNED = ("deepsic", "r2i", "ir2i-wavefront")


def targets(figures: Dict[str, Any]) -> List[List[str]]:
  """[target, measured, met] rows for the issue's four targets."""
  rows = []
  rate = figures["rate_accounting"]
  worst = max(abs(rate[coder]["overhead"]) for coder in ("deepsic", "r2i-entropy-coded"))
  rows.append(["file bits within 2 % of the entropy model's estimate",
               f"worst {100 * worst:.2f} % (DeepSIC, R2I range-coded)", worst <= 0.02])
  speed = figures["codec_speed"]
  outside = {name: speed[name]["outside_compress"] for name in LEARNED if name in speed}
  worst_name = max(outside, key=outside.get)
  rows.append(["time outside the transforms < 20 % of compress (768x512)",
               ", ".join(f"{name} {100 * share:.1f} %" for name, share in outside.items()),
               outside[worst_name] < 0.20])
  ratio = figures["training_input"]["ratio"]
  rows.append(["input pipeline >= 90 % of in-memory speed", f"{100 * ratio:.1f} %",
               ratio >= 0.90])
  growth = {}
  for name, results in figures["scale"].items():
    first, last = results[0], results[-1]
    growth[name] = (last["compress_s"] / (last["height"] * last["width"])) / (
        first["compress_s"] / (first["height"] * first["width"]))
  rows.append(["cost no worse than linear in pixels (per-pixel cost, 2048x3072 vs 512x768)",
               ", ".join(f"{name} x{value:.2f}" for name, value in growth.items()),
               all(value <= 1.10 for value in growth.values())])
  return [[target, measured, "yes" if met else "**no**"] for target, measured, met in rows]


def main(argv: List[str] | None = None) -> int:
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--kodak-dir", default=str(SHARED / "kodak"))
  parser.add_argument("--imagenet-dir", default=str(SHARED / "imagenette"))
  parser.add_argument("--images", type=int, default=codec_speed.DEFAULT_IMAGES,
                      help="Kodak images for codec speed and rate accounting (24 for all)")
  parser.add_argument("--output", default=str(DEFAULT_WORK), help="folder for the JSON and tables")
  args = parser.parse_args(sys.argv[1:] if argv is None else argv)
  for folder in (args.kodak_dir, args.imagenet_dir):
    if not Path(folder).is_dir():
      raise UserError(f"data folder not found: {folder}")
  if args.images < 1:
    raise UserError("--images must be at least 1")
  output = ensure_dir(args.output)
  sys.stdout.reconfigure(line_buffering=True)
  started = time.perf_counter()
  figures: Dict[str, Any] = {"machine": f"{platform.processor() or platform.machine()}, "
                                        f"{os.cpu_count()} cores"}
  sections = []
  for name, run, render in (
      ("codec_speed", lambda: codec_speed.measure(args.kodak_dir, args.images,
                                                  list(CODECS)), codec_speed.render),
      ("rate_accounting", lambda: rate_accounting.measure(args.kodak_dir, args.images),
       rate_accounting.render),
      ("training_input", lambda: training_input.measure(args.imagenet_dir),
       training_input.render),
      ("scale", lambda: scale.measure(args.kodak_dir), scale.render)):
    section_start = time.perf_counter()
    figures[name] = run()
    sections.append(render(figures[name]))
    print(sections[-1])
    print(f"({name}: {time.perf_counter() - section_start:.0f} s)\n")
  sections.append(table("Targets", ["target", "measured", "met"], targets(figures)))
  print(sections[-1])
  figures["seconds"] = time.perf_counter() - started
  print(f"All benchmarks: {figures['seconds']:.0f} s")
  write_json(output / "benchmarks.json", figures)
  atomic_write_text(output / "benchmarks.md", "\n".join(sections))
  return 0


if __name__ == "__main__":
  run_cli(main)
