"""Training steps per second: the real tf.data pipeline against batches already in memory.

  python benchmarks/training_input.py --imagenet-dir ../shared/data/imagenette

DeepSIC at the cpu preset (the headline `scripts/train_deepsic.py`, 16 random 64x64
patches a step) trains on Imagenette's JPEGs through `deepsic_tf.train.prepare_data`
(decode, random crop and flip, batch, prefetch), then on one of its batches repeated
from memory: the ratio says how close the input pipeline is to free. The two alternate
over several rounds on the same model, so machine drift hits both; the first steps of
each run (graph and pipeline start-up) are not timed.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (  # pylint: disable=wrong-import-position
    DEFAULT_WORK, median, publish, steps_per_second, table)
from compression_eval.errors import ArgumentParser, UserError, run_cli  # pylint: disable=wrong-import-position


def measure(imagenet_dir: str, steps: int = 60, warmup: int = 10, rounds: int = 3
            ) -> Dict[str, Any]:
  """{pipeline, in_memory: steps/s (median over rounds), ratio, ...}."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from deepsic_tf import train  # pylint: disable=import-outside-toplevel
  from deepsic_tf.presets import PRESETS  # pylint: disable=import-outside-toplevel
  preset = PRESETS["cpu"]
  data = train.prepare_data(f"folder:{imagenet_dir}", preset, preset.batch_size, seed=0)
  config = train.config_for("pre", "cpu", data.info)
  model = train.build_model(config, preset, rounds * 2 * (steps + warmup))
  in_memory = tf.data.Dataset.from_tensors(next(iter(data.train))).repeat()
  rates: Dict[str, List[float]] = {"pipeline": [], "in_memory": []}
  for _ in range(rounds):
    rates["pipeline"].append(steps_per_second(model, data.train, steps, warmup))
    rates["in_memory"].append(steps_per_second(model, in_memory, steps, warmup))
  pipeline, memory = median(rates["pipeline"]), median(rates["in_memory"])
  return {"model": "DeepSIC pre, cpu preset", "batch": preset.batch_size,
          "patch": preset.patch_size, "steps": steps, "rounds": rounds, "pipeline": pipeline,
          "in_memory": memory, "ratio": pipeline / memory, "all": rates}


def render(figures: Dict[str, Any]) -> str:
  return table(f"Training input pipeline ({figures['model']}, batch {figures['batch']} x "
               f"{figures['patch']}^2, median of {figures['rounds']} rounds of "
               f"{figures['steps']} steps, 2-core CPU)",
               ["fed from", "steps / s", "vs in-memory"],
               [["Imagenette JPEGs (tf.data)", f"{figures['pipeline']:.2f}",
                 f"{100 * figures['ratio']:.1f} %"],
                ["one batch in memory", f"{figures['in_memory']:.2f}", "100 %"]])


def main(argv: List[str] | None = None) -> int:
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--imagenet-dir", required=True, help="ImageNet-layout folder (train/)")
  parser.add_argument("--steps", type=int, default=60)
  parser.add_argument("--json", default=str(DEFAULT_WORK / "training_input.json"))
  args = parser.parse_args(sys.argv[1:] if argv is None else argv)
  if not (Path(args.imagenet_dir) / "train").is_dir():
    raise UserError(f"no train/ folder in {args.imagenet_dir}")
  return publish(measure(args.imagenet_dir, args.steps), render, args.json)


if __name__ == "__main__":
  run_cli(main)
