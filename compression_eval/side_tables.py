"""A codec's side tables: the statistics a coder reads beside its weights (DeepSIC's context
tables, R2I's learned bit model), learned from training codes and found by model id.

Both families learn them the same way (code training images, never Kodak; measure the rate
on held-out ones; write the tables beside the model's weights) and look them up the same
way (the codec's own folders, then every shipped model's), so the command line and the
lookup live here, and each family keeps only what its tables are.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Callable, Sequence, TypeVar

from compression_eval import locations
from compression_eval.errors import ArgumentParser, UserError

Tables = TypeVar("Tables")


def learner_parser(description: str, family: str, file_name: str,
                   images: int) -> ArgumentParser:
  """The flags every side-table learner takes: which model, which training images, where to
  write. `family` names the models `--model` takes (e.g. "DeepSIC")."""
  parser = ArgumentParser(description=description)
  parser.add_argument("--model", required=True,
                      help=f"a shipped {family} name or a codec SavedModel folder")
  parser.add_argument("--dataset", default="../shared/data/imagenette",
                      help="ImageNet-layout folder; its train/ split is used")
  parser.add_argument("--images", type=int, default=images, help="training images to code")
  parser.add_argument("--held-out", type=int, default=100,
                      help="further training-split images the rates are measured on")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--output", help=f"{file_name} to write (default: beside the shipped "
                      "model's weights, or in the codec folder)")
  return parser


def lookup(load: Callable[[Path], Tables], made_for: Callable[[Tables], bool],
           file_name: str, own_folders: Sequence[Path], what: str, model_id: int,
           learner: str) -> Tables:
  """The first `file_name` in the codec's `own_folders`, then in every shipped model's, whose
  loaded tables were `made_for` the model; else a one-line `UserError` that says where they
  were looked for and how to make them (`what`: e.g. "context tables for this DeepSIC
  model")."""
  for folder in list(own_folders) + locations.shipped_model_folders():
    path = Path(folder) / file_name
    if path.is_file():
      tables = load(path)
      if made_for(tables):
        return tables
  raise UserError(f"no {what} (id {model_id:08x}): expected {file_name} beside its codec or "
                  f"its shipped weights; make them with {learner}")


def write(save: Callable[[Path], None], output: Path, args: argparse.Namespace,
          started: float, **figures: object) -> int:
  """Writes a learner's tables with `save` and prints its summary: the flags of
  `learner_parser`, the learner's own `figures` (its rates on the held-out images), the
  file's size and the wall time since `started` (`time.perf_counter()`). The exit status."""
  save(output)
  summary = {"model": args.model, "dataset": f"{args.dataset}/train", "images": args.images,
             "held_out": args.held_out, "seed": args.seed, **figures,
             "bytes": output.stat().st_size,
             "wall_seconds": round(time.perf_counter() - started)}
  print(json.dumps(summary, indent=2))
  print(f"wrote {output}")
  return 0
