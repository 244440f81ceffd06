"""Training DeepSIC with Keras `fit`: presets, data, distribution strategy, callbacks, export.

A run lives in one output folder: `backup/` (BackupAndRestore: kill the run and start
the same command again, it resumes where the last epoch ended), `logs/` (TensorBoard),
`model/` (config and final weights) and `codec/` (the exported codec SavedModel).
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple, Union

import tensorflow as tf

from compression_eval.datasets import classification_dataset, classification_pipeline
from compression_eval.datasets.classification import ClassificationInfo
from compression_eval.errors import UserError
from compression_eval import training
from compression_eval.locations import SHARED
from compression_eval.training import step_schedule
from deepsic_tf.config import DeepSICConfig
from deepsic_tf.head_widening import widened_head_weights
from deepsic_tf.models import DeepSIC
from deepsic_tf.presets import PRESETS, Preset
from deepsic_tf.reference import ReferenceClassifier, compile_reference
from deepsic_tf.synthetic import synthetic_dataset

SYNTHETIC = "synthetic"
# The project's Imagenette, beside a checkout (../shared/data/imagenette). The main job
# trains on it when it is there: a codec learns photos from photos, and the synthetic
# set's textures (the fallback) teach it little about them (kodim23 at 22.2 dB for
# 0.94 bpp after the `quick` preset on the synthetic set).
BESIDE_CHECKOUT = SHARED / "data" / "imagenette"


def default_dataset() -> str:
  """The `--dataset` of a run that names none: Imagenette beside the checkout, else the
  built-in synthetic set."""
  if (BESIDE_CHECKOUT / "train").is_dir() and (BESIDE_CHECKOUT / "val").is_dir():
    return f"folder:{BESIDE_CHECKOUT}"
  return SYNTHETIC
Model = Union[DeepSIC, ReferenceClassifier]


# Validation batches measured after every epoch for the learning curve (history.csv):
# 640 center patches, a few seconds an epoch.
CURVE_BATCHES = 40


def learning_rate_schedule(preset: Preset, steps: int
                           ) -> tf.keras.optimizers.schedules.LearningRateSchedule:
  """The preset's rate, divided by 5 at each of its `drops` (fractions of `steps`)."""
  return step_schedule(preset.learning_rate, steps, drops=preset.drops, factor=5)


def load_split(dataset: str, split: str, manual_dir: Optional[str], data_dir: Optional[str],
               seed: int) -> Tuple[tf.data.Dataset, ClassificationInfo]:
  """(image, label) pairs for a `--dataset` spec (images as file bytes, which the patch
  pipeline decodes patch by patch), or the built-in synthetic set (decoded images)."""
  if dataset == SYNTHETIC:
    return synthetic_dataset(split, seed=seed)
  return classification_dataset(dataset, split, manual_dir=manual_dir, data_dir=data_dir,
                                shuffle=split == "train", seed=seed, encoded=True)


@dataclasses.dataclass(frozen=True)
class Data:
  """Training and validation batches, and what the labels mean."""
  train: tf.data.Dataset
  val: tf.data.Dataset
  info: ClassificationInfo


def prepare_data(dataset: str, preset: Preset, global_batch: int, *,
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


def _model_for(config: DeepSICConfig) -> Model:
  return ReferenceClassifier(config) if config.architecture == "reference" else DeepSIC(config)


# What a run trains: everything (Eq. 4 end to end), or one part of an --init model.
TRAINED_PARTS = ("all", "entropy-model", "head")


def build_model(config: DeepSICConfig, preset: Preset, steps: int,
                init: Optional[Path] = None, trained: str = "all") -> Model:
  """The compiled model; with `init`, starting from the weights of that model folder.

  `trained` "entropy-model" freezes f, g and h: only the entropy model learns, so the
  run can use whole-image crops at the cost of a forward pass (docs/deepsic_entropy_model.md:
  a hyperprior learned on 64x64 patches, whose side code is then a single position,
  does not carry over to whole images). "head" freezes all but h, e.g. to train it at
  the resolution Table I classifies at (docs/deepsic_accuracy.md); a head wider than `init`'s
  continues `init`'s widened (same logits at the start), a narrower one starts fresh, on
  `init`'s transforms and entropy model.
  """
  if trained not in TRAINED_PARTS:
    raise ValueError(f"trained must be one of {TRAINED_PARTS}, not {trained!r}")
  model = _model_for(config)
  flag = f"--{trained}-only"
  if trained != "all":
    if not isinstance(model, DeepSIC):
      raise UserError(f"{flag} trains a part of a codec; the reference classifier is none")
    if init is None:
      raise UserError(f"{flag} needs --init: the model whose other parts it keeps")
  optimizer = tf.keras.optimizers.Adam(learning_rate_schedule(preset, steps))
  if isinstance(model, ReferenceClassifier):
    compile_reference(model, optimizer)
  else:
    model.compile(optimizer=optimizer)
  model(tf.zeros((1, preset.patch_size, preset.patch_size, 3)))  # creates the variables
  if init is not None:
    _assign_init(model, init)
  if trained != "all":  # after the weights: freezing reorders `model.weights`
    model.freeze_all_but(trained)
    model.compile(optimizer=optimizer)  # `fit` restores what was trainable at compile time
  if init is not None:
    training.reset_optimizer(optimizer, model.trainable_variables)
  return model


def _init_config(folder: Path) -> Optional[DeepSICConfig]:
  """The config of the model in `folder`; None where it has none (a weights-only folder)."""
  try:
    return DeepSICConfig.from_json((folder / "config.json").read_text())
  except (OSError, ValueError, TypeError, KeyError):
    return None


def _assign_init(model: Model, init: Path) -> None:
  """`init`'s weights. A codec started from one with the other entropy model takes its
  transforms and head (the entropy model starts fresh: a hyperprior model's side code
  networks and prior, or a factorized model's prior); one with a wider head takes the
  trained head widened with its function kept (`head_widening`), one with a narrower head
  takes all but the head, which starts fresh. The reference classifier started from a
  codec takes its analysis transform and head."""
  source_config = _init_config(init)
  if source_config is not None and source_config.subsampling != model.config.subsampling:
    # The weights have the same shapes, but a stride-32 model started from a stride-16 one
    # codes at 71 bpp and 6 dB after 1,000 steps and trains slower than from scratch
    # (docs/deepsic_accuracy.md, "The paper sets the rate by the subsampling").
    raise UserError(f"--init: {init} subsamples by {_factors(source_config.subsampling)}, "
                    f"this model by {_factors(model.config.subsampling)}: its weights do not "
                    "carry over; train from scratch")
  if source_config is None or source_config.architecture == "reference":
    training.assign_weights(model, init)
    return
  if isinstance(model, ReferenceClassifier):
    # A pre-semantic codec's classifier is h(f(x)) on the floating-point features (Fig. 2a
    # and section III-C), the reference's network: started from it, the reference learns
    # what f gave up for the rate.
    parts, same_prior = ["analysis", "head"], False
  else:
    same_prior = (source_config.entropy_model != "factorized") == model.hyperprior
    same_head = ((source_config.head_filters, source_config.head_units)
                 == (model.config.head_filters, model.config.head_units))
    if same_prior and same_head:
      training.assign_weights(model, init)
      return
    parts = ["analysis", "synthesis"] + (["head"] if same_head else [])
    if same_prior and model.hyperprior:
      parts += ["hyper_analysis", "hyper_synthesis"]
  source = load_model(init)
  try:
    for part in parts:
      getattr(model, part).set_weights(getattr(source, part).get_weights())
    if same_prior:
      for mine, theirs in zip(model.prior.variables, source.prior.variables):
        mine.assign(theirs)
    if "head" not in parts:
      widened = widened_head_weights(source.head.get_weights(), model.head.get_weights())
      if widened is not None:
        model.head.set_weights(widened)
  except ValueError:
    raise UserError(f"--init: {init} has other widths than this model") from None


def _factors(subsampling: Sequence[int]) -> str:
  return ",".join(str(factor) for factor in subsampling)


def fit(config: DeepSICConfig, preset: Preset, data: Data, output: Path,
        strategy: tf.distribute.Strategy, verbose: int = 1,
        backup_every: int = training.BACKUP_EVERY, init: Optional[Path] = None,
        trained: str = "all") -> Tuple[Model, Dict[str, float]]:
  """Trains (or resumes) a run in `output`; returns the model and its validation metrics.

  `init` starts a new run from a model folder's weights (a resumed run takes its backup);
  `trained` as in `build_model`.
  """
  return training.fit(lambda steps: build_model(config, preset, steps, init, trained),
                      data.train, data.val, preset.steps, preset.steps_per_epoch, output, strategy, verbose,
                      backup_every, curve_batches=CURVE_BATCHES)


def _built(config: DeepSICConfig) -> Model:
  model = _model_for(config)
  model(tf.zeros((1, 64, 64, 3)))  # creates the variables
  return model


def load_model(folder: str | os.PathLike) -> Model:
  """A DeepSIC model, or the reference classifier, from a model folder."""
  return training.load_model(folder, "DeepSIC", DeepSICConfig.from_json, _built)


def config_for(architecture: str, preset_name: str, info: ClassificationInfo,
               **overrides) -> DeepSICConfig:
  """A config with the preset's widths, the data's classes and any explicit overrides."""
  fields = {**PRESETS[preset_name].widths,
            **{k: v for k, v in overrides.items() if v is not None}}
  return DeepSICConfig(architecture=architecture, num_classes=info.num_classes,
                       class_names=info.display_names, **fields)


def kodak_metrics(codec_dir: Path, kodak_dir: str, data_dir: Optional[str]) -> Dict[str, float]:
  """Mean bpp (of the real files) and quality over Kodak for an exported codec."""
  # Imported here: the codec and the Kodak builder load only when they are asked for.
  from compression_eval.datasets import load_kodak  # pylint: disable=import-outside-toplevel
  from compression_eval.measure import curve_of  # pylint: disable=import-outside-toplevel
  from deepsic_tf.evaluation import DeepSICEvalCodec  # pylint: disable=import-outside-toplevel
  curve = curve_of(DeepSICEvalCodec(str(codec_dir)), load_kodak(kodak_dir, data_dir=data_dir))
  return {key: values[0] for key, values in curve.results.items() if key != "setting"}
