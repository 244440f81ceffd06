"""Tiny DeepSIC models, their codec modules and exported SavedModels, shared by tests."""
from __future__ import annotations

from pathlib import Path
from typing import Dict

import pytest
import tensorflow as tf

from deepsic_tf.codec import CodecModule, export
from deepsic_tf.config import DeepSICConfig
from deepsic_tf.models import DeepSIC

TINY = {"filters": 8, "bottleneck_channels": 8, "head_filters": 8, "head_units": 16}
CLASS_NAMES = ("tench", "springer", "cassette", "saw", "church")


def tiny_model(architecture: str, seed: int = 0, **overrides) -> DeepSIC:
  tf.keras.utils.set_random_seed(seed)
  config = DeepSICConfig(architecture=architecture, num_classes=5, class_names=CLASS_NAMES,
                         **{**TINY, **overrides})
  model = DeepSIC(config)
  model(tf.zeros((1, 32, 32, 3)))
  return model


@pytest.fixture(scope="session")
def tiny_models() -> Dict[str, DeepSIC]:
  return {architecture: tiny_model(architecture) for architecture in ("pre", "post")}


@pytest.fixture(scope="session")
def codec_modules(tiny_models) -> Dict[str, CodecModule]:
  return {name: CodecModule(model) for name, model in tiny_models.items()}


@pytest.fixture(scope="session")
def exported(tiny_models, tmp_path_factory) -> Dict[str, Path]:
  """Codec SavedModels of both architectures, written once per test session."""
  folder = tmp_path_factory.mktemp("deepsic_export")
  paths = {}
  for name, model in tiny_models.items():
    paths[name] = folder / name
    export(model, str(paths[name]))
  return paths


def tiny_hyperprior_model(seed: int = 0) -> DeepSIC:
  """A tiny post-semantic model with a mean-scale hyperprior whose h_s gives moderate
  scales and means that vary, so that its rate estimate is what its files cost (an
  untrained h_s gives scales near zero)."""
  model = tiny_model("post", seed, entropy_model="mean-scale", hyper_channels=4)
  last = model.hyper_synthesis.layers[-1]
  channels = model.config.bottleneck_channels
  last.kernel.assign(tf.concat([last.kernel[..., :channels] * 0.01,
                                last.kernel[..., channels:] * 3.0], -1))
  last.bias.assign(tf.concat([tf.fill([channels], 40.0), tf.zeros([channels])], 0))
  return model


@pytest.fixture(scope="session")
def hyperprior_model() -> DeepSIC:
  return tiny_hyperprior_model()


@pytest.fixture(scope="session")
def hyperprior_exported(hyperprior_model, tmp_path_factory) -> Path:
  """The hyperprior model's codec SavedModel, written once per test session."""
  path = tmp_path_factory.mktemp("deepsic_hyperprior_export") / "codec"
  export(hyperprior_model, str(path))
  return path



def add_context_tables(path: Path) -> Path:
  """Learns context tables for the codec at `path` from a few smooth images' codes and
  writes them beside it (context_tables.npz in the codec folder)."""
  from deepsic_tf import context_coding  # pylint: disable=import-outside-toplevel
  from deepsic_tf.saved_codec import SavedCodec  # pylint: disable=import-outside-toplevel
  from tests.conftest import smooth_image  # pylint: disable=import-outside-toplevel
  codec = SavedCodec(path)
  codes = [codec.code(smooth_image(64, 96, seed=seed)) for seed in range(4)]
  context_coding.learn_tables(codes, codec.levels, codec.model_id).save(
      path / context_coding.FILE_NAME)
  return path


@pytest.fixture(scope="session")
def context_exported(tiny_models, tmp_path_factory) -> Path:
  """The tiny pre-semantic model's codec, with context tables beside it."""
  path = tmp_path_factory.mktemp("deepsic_context_export") / "codec"
  export(tiny_models["pre"], str(path))
  return add_context_tables(path)
