"""The sequence every training run goes through, written once for both trainers.

A trainer's command line (`deepsic_tf.train_cli`, `r2i_tf.train_cli`) checks its flags
and sets its run up as a `Run`; `execute` does the rest, in the same order for every
family: refuse a run folder of another config, say what trains, fit (resuming from the
last backup), save the model on the chief, report the validation, export the codec and
write summary.json. The flags every trainer takes are in `compression_eval.training_flags`.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import tensorflow as tf

from compression_eval import training
from compression_eval.family import Family

Metrics = Dict[str, float]


@dataclasses.dataclass(frozen=True)
class Run:
  """One training run, as a trainer's command line set it up.

  Attributes:
    family: the model family (its codec export and command line).
    output: the run folder.
    what: the model in words ("DeepSIC post-semantic"), for the first line.
    dataset: the `--dataset` spec trained on.
    inputs: one replica's step in words ("16 x 64^2 patches").
    config: the model's config (to_json, and a dataclass).
    preset: the optimisation: `steps` and `batch_size` at least.
    strategy: the tf.distribute strategy the model is built under.
    fit: trains or resumes, given (Keras verbosity, steps between backups).
    summary: what summary.json records besides what every run records.
    report: the validation metrics -> the lines that report them.
    has_codec: whether the model has a codec to export (not a classifier or an
      inpainting network alone).
    after_export: given the codec folder, measures it further (and prints what it
      found); returns what summary.json records of it.
  """
  family: Family
  output: Path
  what: str
  dataset: str
  inputs: str
  config: Any
  preset: Any
  strategy: tf.distribute.Strategy
  fit: Callable[[int, int], Tuple[tf.keras.Model, Metrics]]
  summary: Dict[str, object]
  report: Callable[[Metrics], List[str]]
  has_codec: bool
  after_export: Optional[Callable[[Path], Dict[str, object]]] = None


def execute(run: Run, args: Any) -> int:
  """Trains, saves, exports and summarises `run`; `args` are the trainer's flags."""
  config_json = run.config.to_json()
  training.check_resumable(run.output, config_json)
  print(f"Training {run.what} on {run.dataset} for {run.preset.steps} steps of {run.inputs}"
        f"{training.replicas_note(run.strategy)} into {run.output}", flush=True)
  model, metrics = run.fit(1 if sys.stdout.isatty() else 2,
                           args.backup_every or training.BACKUP_EVERY)
  if not training.save_from_every_worker(model, config_json, run.output / "model",
                                         run.strategy):
    return 0
  summary = {"dataset": run.dataset, "preset": args.preset, "steps": run.preset.steps,
             "steps_trained": int(model.optimizer.iterations.numpy()),
             "batch_size": run.preset.batch_size, "seed": args.seed, **run.summary,
             "config": dataclasses.asdict(run.config), "validation": metrics}
  for line in run.report(metrics):
    print(line)
  codec = run.output / "codec"
  if run.has_codec:
    # Exported from the saved weights, rebuilt outside the distribution strategy: reading
    # distributed variables one by one would otherwise wait on the other workers.
    run.family.export_codec(run.family.load_model(run.output / "model"), codec)
    summary.update(run.after_export(codec) if run.after_export else {})
  training.write_summary(run.output / "summary.json", summary)
  print(f"Codec SavedModel: {codec} (python -m {run.family.package} compress --model {codec} "
        f"IMAGE OUT{run.family.extension})" if run.has_codec else
        f"Model (no codec): {run.output / 'model'}")
  return 0
