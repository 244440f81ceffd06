"""Training the progressive coders with Keras `fit`: presets, patches, saving and loading.

Three kinds of model train here: R2I and the residual encoder (on 32x32 patches), an
inpainting network alone (Eq. 3), and IR2I, joint or on a frozen inpainter (Eq. 4), from
scratch or from a trained coder and inpainter (`Parts`); the last two on 64x64 crops whose
bottom-right 32x32 is the block to code.

A run lives in one output folder: `backup/` (BackupAndRestore), `logs/` (TensorBoard),
`model/` (config and final weights), `codec/` (the codec SavedModel) and `summary.json`;
a coder's run also logs each stage's training loss (`stage_losses.json`, Figure 4).
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple, Union

import tensorflow as tf

from compression_eval.datasets import classification_dataset, classification_pipeline
from compression_eval import training
from compression_eval.training import step_schedule
from compression_eval.errors import UserError
from compression_eval.fileio import atomic_write_text
from r2i_tf import stage_losses
from r2i_tf.config import PATCH_SIZE, InpainterConfig, IR2IConfig, R2IConfig
from r2i_tf.inpainting import CONTEXT, InpaintingModel
from r2i_tf.ir2i import IR2I
from r2i_tf.models import R2I
from r2i_tf.presets import PRESETS, TrainPreset

# Random crops taken from each decoded image: one 32x32 crop per JPEG decode would make
# the input pipeline, not the model, the bottleneck. 64x64 crops take 4 per image.
PIXELS_PER_IMAGE = 16 * PATCH_SIZE * PATCH_SIZE

AnyConfig = Union[R2IConfig, IR2IConfig, InpainterConfig]
AnyModel = Union[R2I, IR2I, InpaintingModel]


def kind(config: AnyConfig) -> str:
  """The model family a config trains: "r2i" (and the residual encoder), "ir2i" or "inpainter"."""
  return {R2IConfig: "r2i", IR2IConfig: "ir2i", InpainterConfig: "inpainter"}[type(config)]


def preset_for(config: AnyConfig, preset_name: str) -> TrainPreset:
  """The `--preset` a config's kind of model trains with."""
  return PRESETS[preset_name].schedules[kind(config)]


def learning_rate_schedule(preset: TrainPreset, steps: int
                           ) -> tf.keras.optimizers.schedules.LearningRateSchedule:
  """The preset's rate, divided by `drop_factor` at each of its `drops` (fractions of `steps`)."""
  return step_schedule(preset.learning_rate, steps, preset.drops, preset.drop_factor)


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


def new_model(config: AnyConfig) -> AnyModel:
  """An untrained model of `config`, its variables built."""
  model_class = {R2IConfig: R2I, IR2IConfig: IR2I, InpainterConfig: InpaintingModel}[type(config)]
  model = model_class(config)
  model.build_variables()
  return model


@dataclasses.dataclass(frozen=True)
class Parts:
  """Trained parts an IR2I run starts from; none (the default) trains from scratch, as the
  paper does.

  Attributes:
    coder: a trained coder (`--init-coder`) whose stages start this model's: an R2I
      decoding model for an IR2I, the same variant for an R2I (a longer run).
    inpainter: an inpainting network trained alone: the separate baseline freezes it
      (`--inpainter`), joint training starts from it (`--init-inpainter`) and goes on
      with Eq. 4.
    Either may instead be a trained IR2I model, whose coder or inpainter then starts
    this run's: a longer IR2I run continued from a shipped one.
  """
  coder: Optional[Union[R2I, IR2I]] = None
  inpainter: Optional[Union[InpaintingModel, IR2I]] = None


# The parts of each kind of model, as summary.json's `init` names them.
PARTS = {"r2i": ("coder",), "ir2i": ("coder", "inpainter"), "inpainter": ("inpainter",)}


def build_model(config: AnyConfig, preset: TrainPreset, steps: int,
                parts: Parts = Parts(), shards: int = 1) -> AnyModel:
  """The compiled model, with the weights of the trained `parts` it starts from; its
  training step runs as `shards` shards of the batch (`compression_eval.cpu_shards`)."""
  model = new_model(config)
  model.shards = shards
  if parts.coder is not None:
    for stage, trained in zip(model.stages, parts.coder.stages):
      stage.set_weights(trained.get_weights())
  if parts.inpainter is not None:
    model.inpainter.set_weights(parts.inpainter.inpainter.get_weights())
  model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate_schedule(preset, steps)))
  return model


class StageLossLog(tf.keras.callbacks.Callback):
  """Every `every` steps, each stage's mean training loss over those steps (the model's
  `stage_losses`, then reset): appended to <run>/stage_losses.json and written to
  TensorBoard (<run>/logs/stage_losses, `stage_S`), for Figure 4 (`r2i_tf.stage_losses`).

  The means are kept by the training step anyway and read once per `every` steps, so the
  step does not slow down. A resumed run keeps what was logged up to its backup.
  """

  def __init__(self, output: Path, every: int):
    super().__init__()
    self.output, self.every = output, every
    self.step = 0
    self.log: Optional[stage_losses.StageLosses] = None
    self.writer: Optional[tf.summary.SummaryWriter] = None  # on the chief only

  def on_train_begin(self, logs=None) -> None:
    self.step = int(self.model.optimizer.iterations.numpy())  # BackupAndRestore ran first
    path = self.output / stage_losses.FILE
    self.log = (stage_losses.read(path).until(self.step) if path.is_file() else
                stage_losses.StageLosses.empty(self.every, len(self.model.stage_losses)))
    if training.is_chief(self.model.distribute_strategy):
      self.writer = tf.summary.create_file_writer(str(self.output / "logs" / "stage_losses"))
    for tracker in self.model.stage_losses:
      tracker.reset_state()

  def on_train_batch_end(self, batch, logs=None) -> None:
    self.step += 1
    if self.step % self.every:
      return
    losses = [float(tracker.result()) for tracker in self.model.stage_losses]
    for tracker in self.model.stage_losses:
      tracker.reset_state()
    if self.writer is None:
      return
    self.log = self.log.append(self.step, losses)
    atomic_write_text(self.output / stage_losses.FILE, self.log.to_json() + "\n")
    # Keras' TensorBoard callback records only on its own steps unless told otherwise.
    with self.writer.as_default(step=self.step), tf.summary.record_if(True):
      for stage, loss in enumerate(losses, start=1):
        tf.summary.scalar(f"stage_{stage}", loss)

  def on_train_end(self, logs=None) -> None:
    if self.writer is not None:
      self.writer.flush()


def fit(config: AnyConfig, preset: TrainPreset, data: Data, output: Path,
        strategy: tf.distribute.Strategy, verbose: int = 1, parts: Parts = Parts(),
        backup_every: int = training.BACKUP_EVERY, shards: int = 1,
        stage_loss_every: int = stage_losses.EVERY) -> Tuple[AnyModel, Dict[str, float]]:
  """Trains (or resumes) a run in `output`; returns the model and its validation metrics.

  `parts` start a new run (a resumed run takes its backup); each step runs as `shards`
  shards of the batch. A coder's run logs each stage's loss every `stage_loss_every` steps
  (`StageLossLog`).
  """
  callbacks = [] if kind(config) == "inpainter" else [StageLossLog(output, stage_loss_every)]
  return training.fit(lambda steps: build_model(config, preset, steps, parts, shards),
                      data.train, data.val, preset.steps, preset.steps_per_epoch, output,
                      strategy, verbose, backup_every, callbacks=callbacks)


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
  return training.load_model(folder, "R2I", parse_config, new_model)


def describe(config: AnyConfig) -> str:
  """A model in words, for the errors that refuse one."""
  if isinstance(config, R2IConfig):
    return (f"an R2I {config.variant} coder (encoder {list(config.encoder_filters)}, decoder "
            f"{list(config.decoder_filters)}, {config.stages} stages of {config.code_channels} "
            "channels)")
  if isinstance(config, InpainterConfig):
    return (f"a {config.network} inpainting network ({config.filters} filters, "
            f"{config.layers} layers)")
  return f"an IR2I model ({config.variant})"


def part_config(config: AnyConfig, part: str) -> Union[R2IConfig, InpainterConfig]:
  """The config of a run's `part` ("coder" or "inpainter"): an IR2I's own part, or the
  model itself for a coder or an inpainter trained alone."""
  return getattr(config, part) if isinstance(config, IR2IConfig) else config


def load_part(path: str | os.PathLike, expected: Union[R2IConfig, InpainterConfig]
              ) -> Union[R2I, InpaintingModel, IR2I]:
  """The trained model an IR2I part starts from: a run, or a model folder (shipped or a
  run's model/), holding the part alone or an IR2I model with it (which continues an
  IR2I run from its weights); the part's config must be `expected`.

  Raises:
    UserError: no model there, or another one than `expected`.
  """
  folder = Path(path) / "model" if (Path(path) / "model").is_dir() else Path(path)
  model = load_model(folder)
  part = "coder" if isinstance(expected, R2IConfig) else "inpainter"
  if part_config(model.config, part) != expected:
    raise UserError(f"{path} holds {describe(model.config)}; this run needs "
                    f"{describe(expected)}")
  return model


def config_for(variant: str, preset_name: str, network: str = "multiscale",
               inpainting_only: bool = False,
               encoder_filters: Optional[Sequence[int]] = None,
               decoder_filters: Optional[Sequence[int]] = None) -> AnyConfig:
  """The config `scripts/train_r2i.py` trains for its flags: the preset's coder widths,
  or `encoder_filters` / `decoder_filters` where given (the compute-scaling study's 2x
  widths, docs/scaling.md)."""
  preset = PRESETS[preset_name]
  inpainter = InpainterConfig(network=network, filters=preset.inpainter_filters)
  if inpainting_only:
    return inpainter
  coder = R2IConfig(variant="decoding" if variant.startswith("ir2i") else variant,
                    encoder_filters=encoder_filters or preset.encoder_filters,
                    decoder_filters=decoder_filters or preset.decoder_filters)
  if variant.startswith("ir2i"):
    return IR2IConfig(coder=coder, inpainter=inpainter, joint=variant == "ir2i")
  return coder
