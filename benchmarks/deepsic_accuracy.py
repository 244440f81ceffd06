"""Why Table I is flat with rate: the semantic head's crops, training and width, measured.

  python benchmarks/deepsic_accuracy.py --seconds 60 --seeds 0,1

The shipped DeepSIC models classify 224x224 center crops (Table I) with a head that
trained on 64x64 patches, jointly with the transforms. Each arm here trains only the
head of a shipped model (`--head-only`: f, g and the entropy model frozen, so the files
keep their bits and pixels; Eq. 4 over h alone) for the same wall time on the same
sequence of Imagenette batches, then measures Table I's top-1 on all validation images:

  shipped     the shipped head, no training (the reference point)
  head-64     the head continued on 64x64 patches (does more training alone help?)
  head-224    the head continued on 224x224 crops (the resolution it is judged at)

at the lowest and the highest rate of both architectures. With f frozen, L_sem's weight
only scales h's gradient, which Adam divides out: it can matter only jointly (the
transforms), which docs/deepsic_accuracy.md discusses. Results go to OUTPUT.json
(accumulating) and OUTPUT.md.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List

from common import REPO, write_json  # pylint: disable=wrong-import-order

import tensorflow as tf  # pylint: disable=wrong-import-order

from compression_zoo.paper_tables import binomial_interval  # pylint: disable=wrong-import-order
from deepsic_ablation import WallClock  # pylint: disable=wrong-import-order
from deepsic_tf import train  # pylint: disable=wrong-import-order
from deepsic_tf.accuracy import accuracy, table_one_batches  # pylint: disable=wrong-import-order
from deepsic_tf.config import DeepSICConfig  # pylint: disable=wrong-import-order
from deepsic_tf.presets import PRESETS  # pylint: disable=wrong-import-order

MODELS = ("deepsic-pre-q1", "deepsic-pre-q4", "deepsic-post-q1", "deepsic-post-q4")
ARMS = {"head-64": 64, "head-224": 224}  # arm: its training crop
BATCH = 16


def train_head(model_dir: Path, arm: str, seed: int, seconds: float, dataset: str,
               ) -> tuple:
  """(the model with its head trained for `seconds`, steps taken)."""
  tf.keras.backend.clear_session()
  tf.keras.utils.set_random_seed(seed)
  config = DeepSICConfig.from_json((model_dir / "config.json").read_text())
  # A constant rate: the run stops on the clock, long before the schedule's drops.
  preset = dataclasses.replace(PRESETS["cpu"], patch_size=ARMS[arm], batch_size=BATCH)
  data = train.prepare_data(dataset, preset, BATCH, seed=seed)
  model = train.build_model(config, preset, 10**6, init=model_dir, trained="head")
  clock = WallClock(seconds)
  model.fit(data.train, epochs=10**6, steps_per_epoch=50, callbacks=[clock], verbose=0)
  return model, clock.steps


def summarise(runs: List[Dict]) -> Dict[str, float]:
  top1 = [run["top1"] for run in runs]
  return {"mean": statistics.mean(top1), "min": min(top1), "max": max(top1),
          "steps": statistics.mean(run["steps"] for run in runs)}


def render(figures: Dict) -> str:
  lines = ["# Table I's head: crops and training (benchmarks/deepsic_accuracy.py)", "",
           f"Top-1 on all {figures['images']} validation images (224x224 center crops); "
           f"each arm trains only the head for {figures['seconds']:.0f} s of wall time "
           f"(seeds {figures['seeds']}: mean, min-max); 95 % interval of one model "
           f"about +-{figures['half_interval']:.3f}.", "",
           "| model | bpp | shipped | " + " | ".join(ARMS) + " |",
           "|---|---|---|" + "---|" * len(ARMS)]
  for name in MODELS:
    row = figures["models"].get(name)
    if row is None:
      continue
    cells = []
    for arm in ARMS:
      runs = row["arms"].get(arm)
      if runs:
        summary = summarise(runs)
        cells.append(f"{summary['mean']:.3f} ({summary['min']:.3f}-{summary['max']:.3f}; "
                     f"{summary['steps']:.0f} steps)")
      else:
        cells.append("")
    lines.append(f"| {name} | {row['bpp']:.3f} | {row['shipped']:.3f} | " + " | ".join(cells)
                 + " |")
  return "\n".join(lines) + "\n"


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--seconds", type=float, default=60.0)
  parser.add_argument("--seeds", default="0,1")
  parser.add_argument("--models", default=",".join(MODELS))
  parser.add_argument("--arms", default=",".join(ARMS))
  parser.add_argument("--dataset", default=f"folder:{REPO.parent / 'shared/data/imagenette'}")
  parser.add_argument("--output", default=str(REPO / "docs/deepsic_accuracy_ablation"))
  args = parser.parse_args()
  seeds = [int(seed) for seed in args.seeds.split(",")]
  output = Path(args.output)
  json_path = output.with_suffix(".json")
  figures = (json.loads(json_path.read_text()) if json_path.is_file() else
             {"models": {}})
  figures.update(seconds=args.seconds, seeds=args.seeds)
  batches = table_one_batches(args.dataset)
  for name in args.models.split(","):
    model_dir = REPO / "saved_models" / name
    shipped = accuracy(train.load_model(model_dir), batches)
    row = figures["models"].setdefault(name, {"arms": {}})
    row.update(shipped=shipped["top1"], bpp=shipped["bpp"])
    figures["images"] = shipped["images"]
    low, high = binomial_interval(shipped["top1"], shipped["images"])
    figures["half_interval"] = (high - low) / 2
    for arm in args.arms.split(","):
      runs = []
      for seed in seeds:
        started = time.perf_counter()
        model, steps = train_head(model_dir, arm, seed, args.seconds, args.dataset)
        measured = accuracy(model, batches)
        runs.append({"seed": seed, "steps": steps, "top1": measured["top1"],
                     "top5": measured["top5"], "wall_s": time.perf_counter() - started})
        print(f"{name} {arm} seed {seed}: top-1 {measured['top1']:.3f} after {steps} steps "
              f"(shipped {shipped['top1']:.3f})", flush=True)
      row["arms"][arm] = runs
      write_json(json_path, figures)
      output.with_suffix(".md").write_text(render(figures))
  return 0


if __name__ == "__main__":
  sys.exit(main())
