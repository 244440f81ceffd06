"""Training the progressive coders with Keras `fit`: presets, patches, saving and loading.

A run lives in one output folder: `backup/` (BackupAndRestore), `logs/` (TensorBoard),
`model/` (config and final weights), `codec/` (the codec SavedModel) and `summary.json`.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Dict, Optional, Tuple

import tensorflow as tf

from compression_eval.datasets import classification_dataset, classification_pipeline
from compression_eval import training
from compression_eval.training import step_schedule
from r2i_tf.config import PATCH_SIZE, WIDTH_PRESETS, R2IConfig
from r2i_tf.models import R2I

# Random crops taken from each decoded image: one 32x32 crop per JPEG decode would make
# the input pipeline, not the model, the bottleneck.
PATCHES_PER_IMAGE = 16


@dataclasses.dataclass(frozen=True)
class TrainPreset:
  """Optimisation settings; the paper's are 60K iterations of Adam 1e-3, dropped at 30K, 45K."""
  batch_size: int
  steps: int
  learning_rate: float
  steps_per_epoch: int
  drops: Tuple[float, ...] = (0.5, 0.75)  # 30K and 45K of 60K
  drop_factor: float = 10.0


TRAIN_PRESETS = {
    "paper": TrainPreset(batch_size=32, steps=60_000, learning_rate=1e-3, steps_per_epoch=1000),
    "cpu": TrainPreset(batch_size=32, steps=2000, learning_rate=1e-3, steps_per_epoch=200),
}


@dataclasses.dataclass(frozen=True)
class Data:
  """Random training patches (repeated forever) and center validation patches."""
  train: tf.data.Dataset
  val: tf.data.Dataset


def _images_only(dataset: tf.data.Dataset) -> tf.data.Dataset:
  return dataset.map(lambda patches, labels: patches)


def prepare_data(dataset: str, global_batch: int, *, manual_dir: Optional[str] = None,
                 data_dir: Optional[str] = None, seed: int = 0) -> Data:
  """32x32 patches of a `--dataset` spec (folder:PATH, imagenette, imagenet2012); labels dropped."""
  splits = {split: classification_dataset(dataset, split, manual_dir=manual_dir,
                                          data_dir=data_dir, shuffle=split == "train",
                                          seed=seed)[0]
            for split in ("train", "val")}
  train = classification_pipeline(splits["train"], patch_size=PATCH_SIZE, batch_size=global_batch,
                                  training=True, seed=seed, repeat=True,
                                  patches_per_image=PATCHES_PER_IMAGE)
  val = classification_pipeline(splits["val"], patch_size=PATCH_SIZE, batch_size=global_batch,
                                training=False)
  return Data(_images_only(train), _images_only(val))


def build_model(config: R2IConfig, preset: TrainPreset, steps: int) -> R2I:
  model = R2I(config)
  model.compile(optimizer=tf.keras.optimizers.Adam(
      step_schedule(preset.learning_rate, steps, preset.drops, preset.drop_factor)))
  model.build_variables()
  return model


def fit(config: R2IConfig, preset: TrainPreset, data: Data, output: Path,
        strategy: tf.distribute.Strategy, verbose: int = 1) -> Tuple[R2I, Dict[str, float]]:
  """Trains (or resumes) a run in `output`; returns the model and its validation metrics."""
  return training.fit(lambda steps: build_model(config, preset, steps), data.train, data.val,
                      preset.steps, preset.steps_per_epoch, output, strategy, verbose)


def _built(config: R2IConfig) -> R2I:
  model = R2I(config)
  model.build_variables()
  return model


def load_model(folder: str | os.PathLike) -> R2I:
  return training.load_model(folder, "R2I", R2IConfig.from_json, _built)


def config_for(variant: str, preset_name: str) -> R2IConfig:
  return R2IConfig(variant=variant, **WIDTH_PRESETS[preset_name])
