"""The time a step takes in a real R2I training run: today's code against an earlier one.

  python benchmarks/r2i_run_step.py --before adcc227 --dataset folder:../shared/data/imagenette

Issue 19 timed R2I's step in a whole run: 0.44 s, from 2,000 steps in 15 minutes. A whole
run's step includes more than `benchmarks/r2i_step.py` times:
- the input pipeline;
- the callbacks (backups, TensorBoard);
- the validation at each epoch's end.

This script runs `scripts/train_r2i.py --preset cpu --steps N` on the same data at both
revisions. Each run is a fresh process on TensorFlow's default threads, and the runs
alternate over the rounds. A wrapper adds a Keras callback that records when each step
ends, so the older code runs unchanged. The table gives two figures for each revision:
- the median step;
- the mean step after the first 20, which also counts the validations and backups in
  between.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import DEFAULT_WORK, REPO, median, publish, table  # pylint: disable=wrong-import-position
from benchmarks.r2i_step import checkout  # pylint: disable=wrong-import-position
from compression_eval.errors import ArgumentParser, UserError, run_cli  # pylint: disable=wrong-import-position

SKIPPED = 20  # graph building and the pipeline's start

# Runs the trainer of the checkout in the working directory with a step clock added;
# argv: the JSON to write, then the trainer's arguments.
_TIMED_RUN = """
import json, runpy, sys, time
sys.path.insert(0, ".")
import tensorflow as tf
ends = []
fit = tf.keras.Model.fit
class Clock(tf.keras.callbacks.Callback):
  def on_train_batch_end(self, batch, logs=None):
    ends.append(time.perf_counter())
def timed_fit(model, *args, callbacks=None, **kwargs):
  return fit(model, *args, callbacks=list(callbacks or []) + [Clock()], **kwargs)
tf.keras.Model.fit = timed_fit
out, sys.argv = sys.argv[1], ["scripts/train_r2i.py"] + sys.argv[2:]
try:
  runpy.run_path("scripts/train_r2i.py", run_name="__main__")
except SystemExit as exit:
  if exit.code:
    raise
json.dump(ends, open(out, "w"))
"""


def run_ms(folder: Path, variant: str, dataset: str, steps: int) -> Dict[str, float]:
  """{median, mean} ms a step of one training run of the code in `folder`."""
  with tempfile.TemporaryDirectory() as temporary:
    ends_file = Path(temporary) / "ends.json"
    command = [sys.executable, "-c", _TIMED_RUN, str(ends_file), "--dataset", dataset,
               "--preset", "cpu", "--variant", variant, "--steps", str(steps),
               "--output", str(Path(temporary) / "run")]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), check=False)
    if done.returncode:
      last = done.stderr.strip().splitlines()[-1:] or ["no output"]
      raise UserError(f"training at {folder} failed: {last[0]}")
    ends = json.loads(ends_file.read_text())[SKIPPED:]
  gaps = [1000 * (b - a) for a, b in zip(ends, ends[1:])]
  return {"median": median(gaps), "mean": 1000 * (ends[-1] - ends[0]) / (len(ends) - 1)}


def measure(variant: str, dataset: str, steps: int, rounds: int, before: str
            ) -> Dict[str, Any]:
  if dataset.startswith("folder:"):  # the runs work in the checkouts
    dataset = "folder:" + str(Path(dataset[len("folder:"):]).resolve())
  timed: Dict[str, List[Dict[str, float]]] = {"before": [], "today": []}
  with checkout(before) as folder:
    for _ in range(rounds):
      timed["before"].append(run_ms(folder, variant, dataset, steps))
      timed["today"].append(run_ms(REPO, variant, dataset, steps))
  return {"variant": variant, "steps": steps, "rounds": rounds, "before": before,
          "ms_per_step": {code: {kind: median([run[kind] for run in runs])
                                 for kind in ("median", "mean")}
                          for code, runs in timed.items()},
          "all": timed}


def render(figures: Dict[str, Any]) -> str:
  ms = figures["ms_per_step"]
  rows = [[code, f"{ms[code]['median']:.0f}", f"{ms[code]['mean']:.0f}",
           f"{ms[code]['median'] / ms['before']['median']:.2f}"] for code in ("before", "today")]
  return table(f"R2I ({figures['variant']}) training run, cpu preset, {figures['steps']} "
               f"steps (median of {figures['rounds']} rounds; before: {figures['before']})",
               ["code", "median ms / step", "mean ms / step (all after 20)",
                "median / before"], rows)


def main(argv: List[str] | None = None) -> int:
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--dataset", required=True, help="as the trainer's --dataset")
  parser.add_argument("--before", required=True, help="the git revision to compare with "
                      "(adcc227: before issue 19's work)")
  parser.add_argument("--variant", default="residual")
  parser.add_argument("--steps", type=int, default=300)
  parser.add_argument("--rounds", type=int, default=1)
  parser.add_argument("--json", default=str(DEFAULT_WORK / "r2i_run_step.json"))
  args = parser.parse_args(sys.argv[1:] if argv is None else argv)
  return publish(measure(args.variant, args.dataset, args.steps, args.rounds, args.before),
                 render, args.json)


if __name__ == "__main__":
  run_cli(main)
