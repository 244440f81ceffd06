"""Training DeepSIC with Keras `fit`: presets, data, distribution strategy, callbacks, export.

A run lives in one output folder: `backup/` (BackupAndRestore: kill the run and start
the same command again, it resumes where the last epoch ended), `logs/` (TensorBoard),
`model/` (config and final weights) and `codec/` (the exported codec SavedModel).
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Dict, Optional, Tuple

import tensorflow as tf

from compression_eval.datasets import classification_dataset, classification_pipeline
from compression_eval.datasets.classification import ClassificationInfo
from compression_eval.errors import UserError
from compression_eval.fileio import atomic_write_text
from deepsic_tf.config import WIDTH_PRESETS, DeepSICConfig
from deepsic_tf.models import DeepSIC
from deepsic_tf.synthetic import synthetic_dataset

SYNTHETIC = "synthetic"


@dataclasses.dataclass(frozen=True)
class TrainPreset:
  """Optimisation settings; the paper's are ILSVRC-2012, 128x128, batch 32, Adam 3e-3 / 5 twice."""
  patch_size: int
  batch_size: int
  steps: int
  learning_rate: float
  steps_per_epoch: int


TRAIN_PRESETS = {
    "paper": TrainPreset(patch_size=128, batch_size=32, steps=8_000_000, learning_rate=3e-3,
                         steps_per_epoch=10_000),
    "cpu": TrainPreset(patch_size=64, batch_size=16, steps=3000, learning_rate=1e-3,
                       steps_per_epoch=250),
}


def learning_rate_schedule(base: float, steps: int) -> tf.keras.optimizers.schedules.LearningRateSchedule:
  """The paper's rate divided by 5 twice; we drop at 60% and 85% of the steps."""
  boundaries = [max(1, int(steps * 0.6)), max(2, int(steps * 0.85))]
  return tf.keras.optimizers.schedules.PiecewiseConstantDecay(
      boundaries, [base, base / 5, base / 25])


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


def load_split(dataset: str, split: str, manual_dir: Optional[str], data_dir: Optional[str],
               seed: int) -> Tuple[tf.data.Dataset, ClassificationInfo]:
  """(image, label) pairs for a `--dataset` spec, or the built-in synthetic set."""
  if dataset == SYNTHETIC:
    return synthetic_dataset(split, seed=seed)
  return classification_dataset(dataset, split, manual_dir=manual_dir, data_dir=data_dir,
                                shuffle=split == "train", seed=seed)


@dataclasses.dataclass(frozen=True)
class Data:
  """Training and validation batches, and what the labels mean."""
  train: tf.data.Dataset
  val: tf.data.Dataset
  info: ClassificationInfo


def prepare_data(dataset: str, preset: TrainPreset, global_batch: int, *,
                 manual_dir: Optional[str] = None, data_dir: Optional[str] = None,
                 seed: int = 0) -> Data:
  """Random training patches (repeated) and center validation patches for a dataset spec."""
  train, info = load_split(dataset, "train", manual_dir, data_dir, seed)
  val, _ = load_split(dataset, "val", manual_dir, data_dir, seed)
  shuffle_buffer = 2048 if dataset == SYNTHETIC else 0  # folders shuffle their file names
  train = classification_pipeline(train, patch_size=preset.patch_size, batch_size=global_batch,
                                  training=True, shuffle_buffer=shuffle_buffer, seed=seed,
                                  repeat=True)
  val = classification_pipeline(val, patch_size=preset.patch_size, batch_size=global_batch,
                                training=False)
  return Data(train, val, info)


def build_model(config: DeepSICConfig, preset: TrainPreset, steps: int) -> DeepSIC:
  model = DeepSIC(config)
  model.compile(optimizer=tf.keras.optimizers.Adam(
      learning_rate_schedule(preset.learning_rate, steps)))
  model(tf.zeros((1, preset.patch_size, preset.patch_size, 3)))  # creates the variables
  return model


def fit(config: DeepSICConfig, preset: TrainPreset, data: Data, output: Path,
        strategy: tf.distribute.Strategy, verbose: int = 1) -> Tuple[DeepSIC, Dict[str, float]]:
  """Trains (or resumes) a run in `output`; returns the model and its validation metrics."""
  steps_per_epoch = min(preset.steps_per_epoch, preset.steps)
  epochs = math.ceil(preset.steps / steps_per_epoch)
  with strategy.scope():
    model = build_model(config, preset, epochs * steps_per_epoch)
  callbacks = [
      tf.keras.callbacks.BackupAndRestore(str(output / "backup")),
      tf.keras.callbacks.TensorBoard(str(output / "logs"), update_freq=50),
      tf.keras.callbacks.TerminateOnNaN(),
  ]
  history = model.fit(data.train, epochs=epochs, steps_per_epoch=steps_per_epoch,
                      callbacks=callbacks, verbose=verbose)
  if any(math.isnan(value) for value in history.history.get("loss", [])):
    raise UserError("training diverged (loss is NaN); try a lower learning rate")
  results = model.evaluate(data.val, verbose=0, return_dict=True)
  return model, {name: float(value) for name, value in results.items()}


def save_model(model: DeepSIC, folder: Path) -> None:
  """Config JSON and final weights, from which `load_model` and the exporters rebuild it."""
  folder.mkdir(parents=True, exist_ok=True)
  model.save_weights(str(folder / "weights"))
  atomic_write_text(folder / "config.json", model.config.to_json() + "\n")


def load_model(folder: str | os.PathLike) -> DeepSIC:
  folder = Path(folder)
  if not (folder / "config.json").is_file():
    raise UserError(f"no trained DeepSIC model in {folder} (expected config.json and weights "
                    "written by scripts/train_deepsic.py)")
  try:
    config = DeepSICConfig.from_json((folder / "config.json").read_text())
  except (ValueError, TypeError, KeyError) as error:
    raise UserError(f"{folder}/config.json is not a DeepSIC config ({error})") from None
  model = DeepSIC(config)
  model(tf.zeros((1, 64, 64, 3)))
  try:
    model.load_weights(str(folder / "weights")).expect_partial()
  except (tf.errors.NotFoundError, ValueError) as error:
    raise UserError(f"cannot load the weights in {folder}: {type(error).__name__}") from None
  return model


def config_for(architecture: str, preset_name: str, info: ClassificationInfo,
               **overrides) -> DeepSICConfig:
  """A config with the preset's widths, the data's classes and any explicit overrides."""
  fields = {**WIDTH_PRESETS[preset_name], **{k: v for k, v in overrides.items() if v is not None}}
  return DeepSICConfig(architecture=architecture, num_classes=info.num_classes,
                       class_names=info.display_names, **fields)


def write_summary(path: Path, summary: Dict[str, object]) -> None:
  atomic_write_text(path, json.dumps(summary, indent=2) + "\n")


def check_resumable(output: Path, config: DeepSICConfig) -> None:
  """Refuses to resume a run folder that was started with another model config.

  BackupAndRestore would otherwise try to load weights of the wrong shapes (or, worse,
  of the right shapes but another architecture) into the new model.
  """
  recorded = output / "run_config.json"
  if recorded.is_file():
    if recorded.read_text().strip() != config.to_json():
      raise UserError(f"{output} holds a run with a different model config; "
                      "use another --output or delete that folder")
  else:
    atomic_write_text(recorded, config.to_json() + "\n")


def is_chief(strategy: tf.distribute.Strategy) -> bool:
  """Whether this process writes the model (always, unless it is a non-chief worker)."""
  resolver = getattr(strategy.extended, "_cluster_resolver", None)
  if resolver is None or not resolver.task_type:
    return True
  if resolver.task_type == "chief":
    return True
  return (resolver.task_type == "worker" and resolver.task_id == 0
          and "chief" not in resolver.cluster_spec().jobs)


def kodak_metrics(codec_dir: Path, kodak_dir: str, data_dir: Optional[str]) -> Dict[str, float]:
  """Mean bpp (of the real files) and quality over Kodak for an exported codec."""
  # Imported here: evaluation pulls in the Kodak builder only when it is asked for.
  from compression_eval.datasets import load_kodak  # pylint: disable=import-outside-toplevel
  from compression_eval.evaluate import evaluate_codec  # pylint: disable=import-outside-toplevel
  curve = evaluate_codec(f"deepsic:{codec_dir}", load_kodak(kodak_dir, data_dir=data_dir))
  return {key: values[0] for key, values in curve.results.items() if key != "setting"}
