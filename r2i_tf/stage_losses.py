"""Each stage's training loss against iterations (paper 2, Figure 4): the log R2I's trainer
writes, reading it back, and the figure.

Every `every` steps the trainer (`r2i_tf.train.StageLossLog`) appends each stage's mean
training loss over those steps (stage s's term of Eq. 1 / 2: the squared error of P_s on
the [-1, 1] scale, as `R2I._objective` sums them) to <run>/stage_losses.json, and writes
the same values to TensorBoard. Figure 4 draws the first, a middle and the last stage of
a run with full connections beside one with decoding connections; in the paper the
decoding model converges faster, to a lower loss, with less variance (section 2.3).
Free of TensorFlow: drawing the figure from logs needs none.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Dict, List, Mapping, Sequence, Tuple

import numpy as np

from compression_eval.errors import UserError

FILE = "stage_losses.json"
# Steps between two logged values (`--stage-loss-every`): a value is the mean of that many
# steps' losses, 20 values per 1,000 steps.
EVERY = 50
# A loss as the log keeps it: 6 significant digits keep a run's log to a few KB.
_DIGITS = 6


@dataclasses.dataclass(frozen=True)
class StageLosses:
  """A run's logged losses.

  Attributes:
    every: the steps each value averages (the run's `--stage-loss-every`).
    steps: the step each value was logged at (the last of the steps it averages).
    stages: stages[s][i] is stage s + 1's mean training loss at steps[i].
  """
  every: int
  steps: Tuple[int, ...]
  stages: Tuple[Tuple[float, ...], ...]

  @classmethod
  def empty(cls, every: int, stages: int) -> "StageLosses":
    return cls(every, (), ((),) * stages)

  def until(self, step: int) -> "StageLosses":
    """The values logged up to `step`: a run resumed from a backup at `step` logs the
    steps after it again."""
    kept = sum(1 for logged in self.steps if logged <= step)
    return StageLosses(self.every, self.steps[:kept],
                       tuple(values[:kept] for values in self.stages))

  def append(self, step: int, losses: Sequence[float]) -> "StageLosses":
    """With each stage's loss at `step` added."""
    return StageLosses(self.every, self.steps + (step,),
                       tuple(values + (float(f"{loss:.{_DIGITS}g}"),)
                             for values, loss in zip(self.stages, losses)))

  def to_json(self) -> str:
    return json.dumps({"every": self.every, "steps": list(self.steps),
                       "stages": [list(values) for values in self.stages]})


def read(path: str | os.PathLike) -> StageLosses:
  """A log `StageLossLog` wrote (or a copy of one).

  Raises:
    UserError: the file is missing or unreadable, or not such a log: a series of another
      length than its steps, steps that do not increase, or a value that is not finite.
  """
  try:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    losses = StageLosses(int(data["every"]), tuple(int(step) for step in data["steps"]),
                         tuple(tuple(float(value) for value in values)
                               for values in data["stages"]))
  except FileNotFoundError:
    raise UserError(f"no stage-loss log at {path} (written by scripts/train_r2i.py)") from None
  except OSError as error:
    raise UserError(f"cannot read {path} ({error.strerror})") from None
  except (ValueError, TypeError, KeyError) as error:
    raise UserError(f"{path} is not a stage-loss log ({type(error).__name__}: {error})") from None
  if not losses.stages or any(len(values) != len(losses.steps) for values in losses.stages):
    raise UserError(f"{path}: every stage must have one loss per logged step "
                    f"({len(losses.steps)})")
  if any(later <= earlier for earlier, later in zip(losses.steps, losses.steps[1:])):
    raise UserError(f"{path}: the logged steps must increase")
  if not all(math.isfinite(value) for values in losses.stages for value in values):
    raise UserError(f"{path}: a logged loss is not finite")
  return losses


def shown_stages(count: int) -> List[int]:
  """Figure 4's stages of a `count`-stage coder: the first, the middle one, the last."""
  return sorted({1, (count + 1) // 2, count})


# What Figure 4 plots: per run, per stage shown, the steps and the losses.
Series = Dict[str, Dict[int, Tuple[Tuple[int, ...], Tuple[float, ...]]]]


def figure_4(runs: Mapping[str, StageLosses], path: str | os.PathLike) -> Series:
  """Draws the first, middle and last stages' losses of each run (by its label, e.g.
  "full" and "decoding") against iterations into `path`; returns what it drew.

  Raises:
    UserError: the runs' coders have different numbers of stages, or a run logged nothing.
  """
  from compression_eval.plots import plot_panels  # pylint: disable=import-outside-toplevel
  counts = {len(losses.stages) for losses in runs.values()}
  if len(counts) != 1:
    raise UserError(f"the runs have coders of {' and '.join(map(str, sorted(counts)))} stages")
  empty = [label for label, losses in runs.items() if not losses.steps]
  if empty:
    raise UserError(f"the {', '.join(empty)} run logged no stage loss (too few steps?)")
  stages = shown_stages(counts.pop())
  series = {label: {stage: (losses.steps, losses.stages[stage - 1]) for stage in stages}
            for label, losses in runs.items()}
  plot_panels([(f"stage {stage}", {label: drawn[stage] for label, drawn in series.items()})
               for stage in stages], path, xlabel="iterations",
              ylabel="training loss (MSE, [-1, 1] scale)",
              title="R2I training loss by stage (paper 2, Figure 4)")
  return series


def convergence(steps: Tuple[int, ...], values: Tuple[float, ...]) -> Dict[str, float]:
  """Figure 4's three readings of one curve: how low it ends (the mean of its last tenth),
  how fast it gets there (the first step within 10 % of that end) and how much it varies
  at the end (the standard deviation of the last tenth about a straight-line fit)."""
  tail = max(2, len(values) // 10)
  end = np.asarray(values[-tail:], dtype=np.float64)
  ends_at = float(end.mean())
  reached = next(step for step, value in zip(steps, values) if value <= 1.1 * ends_at)
  trend = np.polyval(np.polyfit(np.arange(tail), end, 1), np.arange(tail))
  return {"end": ends_at, "reached": float(reached), "variation": float((end - trend).std())}
