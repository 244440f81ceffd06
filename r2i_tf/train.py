"""Training the progressive coders with Keras `fit`: presets, patches, saving and loading.

Three kinds of model train here: R2I and the residual encoder (on 32x32 patches), an
inpainting network alone (Eq. 3), and IR2I, joint or on a frozen inpainter (Eq. 4); the
last two on 64x64 crops whose bottom-right 32x32 is the block to code.

A run lives in one output folder: `backup/` (BackupAndRestore), `logs/` (TensorBoard),
`model/` (config and final weights), `codec/` (the codec SavedModel) and `summary.json`.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

import tensorflow as tf

from compression_eval.datasets import classification_dataset, classification_pipeline
from compression_eval import training
from compression_eval.training import step_schedule
from compression_eval.errors import UserError
from r2i_tf.config import (INPAINTER_FILTERS, PATCH_SIZE, WIDTH_PRESETS, InpainterConfig,
                           IR2IConfig, R2IConfig)
from r2i_tf.inpainting import CONTEXT, InpaintingModel
from r2i_tf.ir2i import IR2I
from r2i_tf.models import R2I

# Random crops taken from each decoded image: one 32x32 crop per JPEG decode would make
# the input pipeline, not the model, the bottleneck. 64x64 crops take 4 per image.
PIXELS_PER_IMAGE = 16 * PATCH_SIZE * PATCH_SIZE

AnyConfig = Union[R2IConfig, IR2IConfig, InpainterConfig]
AnyModel = Union[R2I, IR2I, InpaintingModel]


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
# IR2I: the paper's 110K iterations, dropped at 30K, 65K and 90K. At `cpu`, batches of 16
# crops: the inpainting network at 64x64 full resolution costs several times a coder step.
IR2I_PRESETS = {
    "paper": TrainPreset(batch_size=32, steps=110_000, learning_rate=1e-3, steps_per_epoch=1000,
                         drops=(30 / 110, 65 / 110, 90 / 110)),
    "cpu": TrainPreset(batch_size=16, steps=2000, learning_rate=1e-3, steps_per_epoch=200,
                       drops=(30 / 110, 65 / 110, 90 / 110)),
}
# An inpainting network alone: the paper gives no schedule; R2I's, with IR2I's batch.
INPAINTER_PRESETS = {
    "paper": TRAIN_PRESETS["paper"],
    "cpu": TrainPreset(batch_size=16, steps=1500, learning_rate=1e-3, steps_per_epoch=150),
}


def preset_for(config: AnyConfig, preset_name: str) -> TrainPreset:
  if isinstance(config, IR2IConfig):
    return IR2I_PRESETS[preset_name]
  if isinstance(config, InpainterConfig):
    return INPAINTER_PRESETS[preset_name]
  return TRAIN_PRESETS[preset_name]


def crop_size(config: AnyConfig) -> int:
  """32x32 patches for R2I; 64x64 crops (context and block) for the inpainting models."""
  return PATCH_SIZE if isinstance(config, R2IConfig) else CONTEXT


@dataclasses.dataclass(frozen=True)
class Data:
  """Random training patches (repeated forever) and center validation patches."""
  train: tf.data.Dataset
  val: tf.data.Dataset


def _images_only(dataset: tf.data.Dataset) -> tf.data.Dataset:
  return dataset.map(lambda patches, labels: patches)


def prepare_data(dataset: str, global_batch: int, *, patch_size: int = PATCH_SIZE,
                 manual_dir: Optional[str] = None, data_dir: Optional[str] = None,
                 seed: int = 0) -> Data:
  """Square crops of a `--dataset` spec (folder:PATH, imagenette, imagenet2012); labels dropped."""
  splits = {split: classification_dataset(dataset, split, manual_dir=manual_dir,
                                          data_dir=data_dir, shuffle=split == "train",
                                          seed=seed)[0]
            for split in ("train", "val")}
  train = classification_pipeline(splits["train"], patch_size=patch_size, batch_size=global_batch,
                                  training=True, seed=seed, repeat=True,
                                  patches_per_image=PIXELS_PER_IMAGE // patch_size**2)
  val = classification_pipeline(splits["val"], patch_size=patch_size, batch_size=global_batch,
                                training=False)
  return Data(_images_only(train), _images_only(val))


def _built(config: AnyConfig) -> AnyModel:
  model_class = {R2IConfig: R2I, IR2IConfig: IR2I, InpainterConfig: InpaintingModel}[type(config)]
  model = model_class(config)
  model.build_variables()
  return model


def build_model(config: AnyConfig, preset: TrainPreset, steps: int,
                inpainter: Optional[InpaintingModel] = None) -> AnyModel:
  """The compiled model; a separate IR2I starts from (and freezes) a trained `inpainter`."""
  model = _built(config)
  if inpainter is not None:
    model.inpainter.set_weights(inpainter.inpainter.get_weights())
  model.compile(optimizer=tf.keras.optimizers.Adam(
      step_schedule(preset.learning_rate, steps, preset.drops, preset.drop_factor)))
  return model


def fit(config: AnyConfig, preset: TrainPreset, data: Data, output: Path,
        strategy: tf.distribute.Strategy, verbose: int = 1,
        inpainter: Optional[InpaintingModel] = None,
        backup_every: int = training.BACKUP_EVERY) -> Tuple[AnyModel, Dict[str, float]]:
  """Trains (or resumes) a run in `output`; returns the model and its validation metrics."""
  return training.fit(lambda steps: build_model(config, preset, steps, inpainter), data.train,
                      data.val, preset.steps, preset.steps_per_epoch, output, strategy, verbose,
                      backup_every)


def parse_config(text: str) -> AnyConfig:
  """Whichever config a saved model's config.json holds."""
  for config_class in (R2IConfig, IR2IConfig, InpainterConfig):
    try:
      return config_class.from_json(text)
    except (ValueError, TypeError, KeyError):
      continue
  raise ValueError("neither an R2I, IR2I nor inpainting network config")


def load_model(folder: str | os.PathLike) -> AnyModel:
  """A trained R2I, IR2I or inpainting network from a run's model/ folder."""
  return training.load_model(folder, "R2I", parse_config, _built)


def load_inpainter(run: str | os.PathLike) -> InpaintingModel:
  """The inpainting network trained alone (`--inpainting-only`): a run or a shipped folder."""
  folder = Path(run) / "model" if (Path(run) / "model").is_dir() else Path(run)
  model = load_model(folder)
  if not isinstance(model, InpaintingModel):
    raise UserError(f"{run} holds no inpainting network trained alone (train one with "
                    "--inpainting-only)")
  return model


def config_for(variant: str, preset_name: str, network: str = "multiscale",
               inpainting_only: bool = False) -> AnyConfig:
  """The config `scripts/train_r2i.py` trains for its flags."""
  inpainter = InpainterConfig(network=network, filters=INPAINTER_FILTERS[preset_name])
  if inpainting_only:
    return inpainter
  coder = R2IConfig(variant="decoding" if variant.startswith("ir2i") else variant,
                    **WIDTH_PRESETS[preset_name])
  if variant.startswith("ir2i"):
    return IR2IConfig(coder=coder, inpainter=inpainter, joint=variant == "ir2i")
  return coder
