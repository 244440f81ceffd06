"""What every trainer in the project shares: strategies, schedules, callbacks, run folders.

Both papers train with Adam and a learning rate dropped by a constant factor at fixed
iterations; both trainers use Keras `fit` with the same callbacks, and write the same
run-folder layout: `backup/` (BackupAndRestore: kill a run and rerun the same command,
it resumes), `logs/` (TensorBoard), `run_config.json` (guards resuming) and
`summary.json` (what the run measured).
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple, TypeVar

import tensorflow as tf

from compression_eval import provenance, shipped
from compression_eval.errors import UserError
from compression_eval.fileio import atomic_directory, atomic_write_text


def step_schedule(base: float, steps: int, drops: Sequence[float],
                  factor: float) -> tf.keras.optimizers.schedules.LearningRateSchedule:
  """`base`, divided by `factor` at each fraction of `steps` in `drops`.

  Papers give their drops as iterations of their own run length (R2I: 30K and 45K of
  60K); as fractions they carry over to any `--steps`.
  """
  boundaries: List[int] = []
  for fraction in drops:
    boundaries.append(max(round(steps * fraction), boundaries[-1] + 1 if boundaries else 1))
  values = [base / factor**i for i in range(len(drops) + 1)]
  return tf.keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)


def make_strategy(name: str) -> tf.distribute.Strategy:
  """default (one device), mirrored (all local devices) or multiworker (via TF_CONFIG)."""
  if name == "default":
    return tf.distribute.get_strategy()
  if name == "mirrored":
    return tf.distribute.MirroredStrategy()
  if name == "multiworker":
    if "TF_CONFIG" not in os.environ:
      raise UserError("--strategy multiworker needs TF_CONFIG describing the cluster "
                      "(see the README's 'Training on several machines')")
    return tf.distribute.MultiWorkerMirroredStrategy()
  raise UserError(f"unknown strategy {name!r}; use default, mirrored or multiworker")


def replica_share(loss: tf.Tensor) -> tf.Tensor:
  """This replica's share of the global loss, to take gradients of in a custom train_step.

  Under a distribution strategy Keras' optimizers sum the replicas' gradients; the mean
  loss of each replica's batch would then take N times the step on N replicas (N
  workers). Dividing by N gives the gradient of the global batch's mean loss, as Keras'
  compiled losses do.
  """
  return loss / tf.distribute.get_strategy().num_replicas_in_sync


def replicas_note(strategy: tf.distribute.Strategy) -> str:
  """" per replica on N replicas" when training is distributed, else nothing: a run's first
  line says whether the workers found each other."""
  replicas = strategy.num_replicas_in_sync
  return "" if replicas == 1 else f" per replica on {replicas} replicas"


def is_chief(strategy: tf.distribute.Strategy) -> bool:
  """Whether this process writes the model (always, unless it is a non-chief worker)."""
  resolver = getattr(strategy.extended, "_cluster_resolver", None)
  if resolver is None or not resolver.task_type:
    return True
  if resolver.task_type == "chief":
    return True
  return (resolver.task_type == "worker" and resolver.task_id == 0
          and "chief" not in resolver.cluster_spec().jobs)


# Steps between backups: a killed run repeats at most this many. A backup of a `cpu` model
# and its optimizer takes well under a second.
BACKUP_EVERY = 100


class ResumeNote(tf.keras.callbacks.Callback):
  """Says where a rerun picks up, once BackupAndRestore (before it in the list) restored it."""

  def __init__(self, steps: int):
    super().__init__()
    self.steps = steps

  def on_train_begin(self, logs=None) -> None:
    done = int(self.model.optimizer.iterations.numpy())
    if done:
      print(f"Resumed from the backup at step {done} of {self.steps}", flush=True)


# The learning curve of a run: one row per epoch, training and validation metrics.
HISTORY_FILE = "history.csv"


def standard_callbacks(output: Path, steps: int,
                       backup_every: int = BACKUP_EVERY) -> List[tf.keras.callbacks.Callback]:
  """Resume after a kill (from the last of the backups every `backup_every` steps),
  TensorBoard logs, the per-epoch history (appended to, so a resumed run continues its
  curve) and stop on a NaN loss."""
  return [
      tf.keras.callbacks.BackupAndRestore(str(output / "backup"), save_freq=backup_every),
      ResumeNote(steps),
      tf.keras.callbacks.TensorBoard(str(output / "logs"), update_freq=50),
      tf.keras.callbacks.CSVLogger(str(output / HISTORY_FILE), append=True),
      tf.keras.callbacks.TerminateOnNaN(),
  ]


def fit(build: Callable[[int], tf.keras.Model], train: tf.data.Dataset, val: tf.data.Dataset,
        steps: int, steps_per_epoch: int, output: Path, strategy: tf.distribute.Strategy,
        verbose: int = 1, backup_every: int = BACKUP_EVERY, curve_batches: int = 0,
        callbacks: Sequence[tf.keras.callbacks.Callback] = ()
        ) -> Tuple[tf.keras.Model, Dict[str, float]]:
  """Trains (or resumes) a run in `output`; returns the model and its validation metrics.

  A rerun after a kill resumes from the last backup, inside its epoch, so the run still
  takes exactly `steps` optimizer steps (the model's `optimizer.iterations`).

  Args:
    build: makes the compiled model, given the number of steps its schedule spans.
    train: batches, repeated forever.
    val: a finite validation set.
    curve_batches: when positive, the first this many validation batches are measured
      after every epoch, for the learning curve in `history.csv`.
    callbacks: the trainer's own, after the standard ones: a resumed run's step is
      restored when they start.
  """
  steps_per_epoch = min(steps_per_epoch, steps)
  epochs = math.ceil(steps / steps_per_epoch)
  with strategy.scope():
    model = build(epochs * steps_per_epoch)
  curve = val.take(curve_batches).cache() if curve_batches > 0 else None
  history = model.fit(train, epochs=epochs, steps_per_epoch=steps_per_epoch,
                      validation_data=curve,
                      callbacks=[*standard_callbacks(output, epochs * steps_per_epoch,
                                                     backup_every), *callbacks],
                      verbose=verbose)
  if any(math.isnan(value) for value in history.history.get("loss", [])):
    raise UserError("training diverged (loss is NaN); try a lower learning rate")
  results = model.evaluate(val, verbose=0, return_dict=True)
  return model, {name: float(value) for name, value in results.items()}


def save_model(model: tf.keras.Model, config_json: str, folder: Path) -> None:
  """Config JSON and final weights, from which a model and its exports are rebuilt;
  written as one folder (`atomic_directory`), so a kill never leaves weights without
  their config or half of either."""
  with atomic_directory(folder) as staging:
    model.save_weights(str(staging / "weights"))
    atomic_write_text(staging / "config.json", config_json + "\n")


def save_from_every_worker(model: tf.keras.Model, config_json: str, folder: Path,
                           strategy: tf.distribute.Strategy) -> bool:
  """Saves the model to `folder` on the chief; returns whether this process is the chief.

  Saving weights is collective under multi-worker training: every worker takes part,
  and the others write to a scratch folder that is thrown away.
  """
  if is_chief(strategy):
    save_model(model, config_json, folder)
    return True
  with tempfile.TemporaryDirectory() as scratch:
    save_model(model, config_json, Path(scratch))
  return False


Config = TypeVar("Config")


def load_model(folder: str | os.PathLike, kind: str, parse: Callable[[str], Config],
               build: Callable[[Config], tf.keras.Model]) -> tf.keras.Model:
  """Rebuilds a model saved by `save_model`, or shipped (`compression_eval.shipped`).

  `kind` names the model in errors ("DeepSIC").
  """
  folder = Path(folder)
  if not (folder / "config.json").is_file():
    raise UserError(f"no trained {kind} model in {folder} (expected config.json and weights "
                    "written by its training script)")
  try:
    config = parse((folder / "config.json").read_text())
  except (ValueError, TypeError, KeyError) as error:
    raise UserError(f"{folder}/config.json is not a {kind} config ({error})") from None
  model = build(config)
  assign_weights(model, folder)
  return model


def assign_weights(model: tf.keras.Model, folder: str | os.PathLike) -> None:
  """Gives `model` the weights of a model folder: shipped (float16 `weights.npz`) or
  written by `save_model`. `--init` starts a run so, from a shipped model.

  Raises:
    UserError: the folder holds no weights, or weights of other shapes.
  """
  folder = Path(folder)
  if (folder / shipped.WEIGHTS_FILE).is_file():
    shipped.read_weights(model, folder / shipped.WEIGHTS_FILE)
    return
  try:
    model.load_weights(str(folder / "weights")).expect_partial()
  except (tf.errors.NotFoundError, ValueError) as error:
    raise UserError(f"cannot load the weights in {folder}: {type(error).__name__}") from None


def reset_optimizer(optimizer: tf.keras.optimizers.Optimizer,
                    variables: Sequence[tf.Variable]) -> None:
  """Starts `optimizer` afresh (step 0, zero moments) on `variables`.

  A run folder's weights are a checkpoint of the model with its optimizer, so `--init`
  from one also restores that run's step and moments (Adam's, once it builds its slots).
  A new run must start at step 0: its learning-rate schedule is read at the optimizer's
  step, and at the earlier run's step it sits past every drop, at its floor (1/25 of the
  rate at `cpu`) for the whole run. A resumed run is unaffected: BackupAndRestore
  restores its backup when `fit` starts, after this.
  """
  optimizer.build(list(variables))  # creates (and so restores) the slots before zeroing
  for variable in optimizer.variables:
    variable.assign(tf.zeros_like(variable))


def check_resumable(output: Path, config_json: str) -> None:
  """Refuses to resume a run folder that was started with another model config.

  BackupAndRestore would otherwise try to load weights of the wrong shapes (or, worse,
  of the right shapes but another architecture) into the new model.
  """
  recorded = output / "run_config.json"
  if recorded.is_file():
    if recorded.read_text().strip() != config_json:
      raise UserError(f"{output} holds a run with a different model config; "
                      "use another --output or delete that folder")
  else:
    atomic_write_text(recorded, config_json + "\n")


def write_summary(path: Path, summary: Dict[str, object]) -> None:
  """A run's summary.json, with the provenance of the code that trained it."""
  atomic_write_text(path, json.dumps({**summary, "provenance": provenance.record()},
                                     indent=2) + "\n")
