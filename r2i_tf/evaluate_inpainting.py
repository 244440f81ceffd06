"""Partial-context inpainting on Kodak (paper 2, Table 1): average SSIM per inpainter.

  python scripts/evaluate_inpainting.py --kodak-dir ../shared/data/kodak \
      --network multiscale=runs/inpainter-multiscale --network vanilla=runs/inpainter-vanilla \
      --out docs/ir2i_inpainting

Every non-overlapping 32x32 block of every image is predicted from the blocks above, to
the left and above-left of it (`compression_eval.partial_context`) by the PDE-based
(biharmonic) and exemplar-based (Criminisi et al.) inpainters, mid-grey as a floor, and
each trained network given (`--network NAME=RUN`: a run of `train_r2i.py
--inpainting-only`, or an IR2I run, whose inpainting network is used). Writes
<out>/inpainting.json and <out>/inpainting.md and prints the table, with the paper's
figures beside ours when `--paper-table` (the CSV of Table 1) is found.
"""
from __future__ import annotations

import csv
import functools
import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TF's C++ start-up noise off the output
# One BLAS thread per process: the exemplar search is many small matrix-vector products,
# which threads only slow down (and the classical inpainters run on --jobs processes).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # pylint: disable=wrong-import-position

from compression_eval import partial_context  # pylint: disable=wrong-import-position
from compression_eval.errors import ArgumentParser, UserError, run_cli  # pylint: disable=wrong-import-position
from compression_eval.fileio import atomic_write_text, ensure_dir  # pylint: disable=wrong-import-position
from compression_eval.locations import SHARED  # pylint: disable=wrong-import-position

PAPER_TABLE = (SHARED / "anchors" / "paper_tables"
               / "r2i_table1_partial_context_inpainting_ssim.csv")
DESCRIPTIONS = partial_context.DESCRIPTIONS
PAPER_ROWS = partial_context.PAPER_ROWS


def parse_args(argv: List[str]):
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--kodak-dir", required=True, help="folder with kodim01.png ... kodim24.png")
  parser.add_argument("--network", action="append", default=[], metavar="NAME=RUN",
                      help="a trained inpainting network to evaluate (repeatable)")
  parser.add_argument("--out", default="results/inpainting", help="output folder")
  parser.add_argument("--paper-table", default=str(PAPER_TABLE),
                      help="the paper's Table 1 as CSV (approach,ssim); skipped if missing")
  parser.add_argument("--classical", default=",".join(DESCRIPTIONS),
                      help=f"classical rows, comma-separated (default all: "
                      f"{','.join(DESCRIPTIONS)}; empty for networks only)")
  parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                      help="processes for the classical inpainters")
  parser.add_argument("--limit", type=int, help="only the first N images (quick checks)")
  return parser.parse_args(argv)


def _networks(specs: List[str]) -> Dict[str, tuple]:
  """NAME=RUN specs to {name: (inpainter, description, paper row or None)}."""
  from r2i_tf import train  # pylint: disable=import-outside-toplevel
  from r2i_tf.inpainting import InpaintingModel, partial_context_inpainter  # pylint: disable=import-outside-toplevel
  networks = {}
  for spec in specs:
    name, _, run = spec.partition("=")
    if not name or not run:
      raise UserError(f"--network takes NAME=RUN, not {spec!r}")
    if name in networks or name in DESCRIPTIONS:
      raise UserError(f"--network name {name!r} is taken")
    model = train.load_model(Path(run) / "model")
    if not hasattr(model, "inpainter"):
      raise UserError(f"{run} holds an R2I model without an inpainting network")
    network = model.config.network if isinstance(model, InpaintingModel) else None
    kind = (f"{network} network, trained alone" if network else
            f"inpainting network of {model.config.variant}")
    networks[name] = (partial_context_inpainter(model.inpainter), f"{kind} ({run})", network)
  return networks


def _paper(path: str) -> Dict[str, float]:
  if not Path(path).is_file():
    return {}
  with open(path, encoding="utf-8") as handle:
    rows = csv.DictReader(line for line in handle if not line.startswith("#"))
    return {row["approach"]: float(row["ssim"]) for row in rows}


def table(means: Dict[str, float], descriptions: Dict[str, str],
          paper_rows: Dict[str, Optional[str]], paper: Dict[str, float], blocks: int,
          images: int) -> str:
  lines = [f"Partial-context inpainting, average SSIM over {blocks} blocks of {images} Kodak "
           "images (paper 2, Table 1)", "",
           "| inpainter | ours | paper |", "|---|---|---|"]
  for name, mean in means.items():
    published = paper.get(paper_rows.get(name) or "")
    lines.append(f"| {descriptions[name]} | {mean:.4f} | "
                 f"{'' if published is None else f'{published:.4f}'} |")
  return "\n".join(lines) + "\n"


def main(argv: List[str] | None = None) -> int:
  args = parse_args(sys.argv[1:] if argv is None else argv)
  if args.jobs < 1 or (args.limit is not None and args.limit < 1):
    raise UserError("--jobs and --limit must be at least 1")
  chosen = [name for name in args.classical.split(",") if name]
  unknown = sorted(set(chosen) - set(DESCRIPTIONS))
  if unknown:
    raise UserError(f"unknown --classical {', '.join(unknown)}; choose from "
                    f"{', '.join(DESCRIPTIONS)}")
  out = ensure_dir(args.out)
  networks = _networks(args.network)
  if not chosen and not networks:
    raise UserError("nothing to evaluate: give --network NAME=RUN or --classical")
  from compression_eval.datasets import load_kodak  # pylint: disable=import-outside-toplevel
  images = [image for _, image in load_kodak(args.kodak_dir)][:args.limit]

  inpainters = {name: partial_context.CLASSICAL[name] for name in chosen}
  descriptions = dict(DESCRIPTIONS)
  paper_rows = {name: PAPER_ROWS.get(name) for name in inpainters}
  for name, (inpainter, description, network) in networks.items():
    inpainters[name] = inpainter
    descriptions[name] = description
    paper_rows[name] = PAPER_ROWS.get(network or "")
  scores = partial_context.evaluate(images, inpainters, parallel=partial_context.PARALLEL,
                                    jobs=args.jobs)
  means = {name: float(np.mean(values)) for name, values in scores.items()}
  blocks = len(next(iter(scores.values())))
  report = table(means, descriptions, paper_rows, _paper(args.paper_table), blocks, len(images))
  atomic_write_text(out / "inpainting.json", json.dumps(
      {"images": len(images), "blocks": blocks, "mean_ssim": means,
       "descriptions": descriptions, "block_ssim": scores}, indent=1) + "\n")
  atomic_write_text(out / "inpainting.md", report)
  print(report)
  return 0


entry_point = functools.partial(run_cli, main)  # the installed console script


if __name__ == "__main__":
  entry_point()
