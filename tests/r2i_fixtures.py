"""Tiny R2I and IR2I models and exported codecs, shared by tests."""
from __future__ import annotations

from pathlib import Path

import pytest
import tensorflow as tf

from r2i_tf.codec import export
from r2i_tf.config import InpainterConfig, IR2IConfig, R2IConfig
from r2i_tf.ir2i import IR2I
from r2i_tf.models import R2I

# Narrow and three stages keep tests fast; 32 code channels keep the paper's 128 bits
# per block per stage.
TINY = {"encoder_filters": (4, 8, 8, 8), "decoder_filters": (8, 8, 8, 4, 4), "stages": 3}


def tiny_r2i(variant: str = "decoding", seed: int = 0) -> R2I:
  tf.keras.utils.set_random_seed(seed)
  model = R2I(R2IConfig(variant=variant, **TINY))
  model.build_variables()
  return model


@pytest.fixture(scope="session")
def r2i_exported(tmp_path_factory) -> Path:
  """A tiny decoding-connections codec SavedModel, written once per test session."""
  path = tmp_path_factory.mktemp("r2i_export") / "codec"
  export(tiny_r2i("decoding"), str(path))
  return path


@pytest.fixture(scope="session")
def r2i_foreign(tmp_path_factory) -> Path:
  """Another tiny codec (other weights): its files must be refused by the first."""
  path = tmp_path_factory.mktemp("r2i_foreign") / "codec"
  export(tiny_r2i("decoding", seed=1), str(path))
  return path


def tiny_ir2i(joint: bool = True, seed: int = 0) -> IR2I:
  """Three stages (first code: two) and a two-layer multi-scale inpainter."""
  tf.keras.utils.set_random_seed(seed)
  model = IR2I(IR2IConfig(coder=R2IConfig(variant="decoding", **TINY),
                          inpainter=InpainterConfig(filters=2, layers=2), joint=joint))
  model.build_variables()
  return model


@pytest.fixture(scope="session")
def ir2i_exported(tmp_path_factory) -> Path:
  """A tiny IR2I codec SavedModel, written once per test session."""
  path = tmp_path_factory.mktemp("ir2i_export") / "codec"
  export(tiny_ir2i(), str(path))
  return path


def tiny_bit_model(codec_path: Path, seed: int = 0, groups: int = 2):
  """A learned bit model for the codec at `codec_path`, from random float weights: its
  probabilities are skewed enough to test coding, not to save bits."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  from r2i_tf import bit_contexts  # pylint: disable=import-outside-toplevel
  from r2i_tf.bit_model import BitModel  # pylint: disable=import-outside-toplevel
  from r2i_tf.serving_client import ServingClient  # pylint: disable=import-outside-toplevel
  client = ServingClient.from_saved_model(codec_path)
  stages, bits = client.config.stages, client.coder_config.bits_per_block
  inputs = (bit_contexts.earlier_size(bits, stages) + bit_contexts.above_size(bits)
            + bit_contexts.group_size(bits, groups))
  rng = np.random.default_rng(seed)
  weights = [rng.normal(0, 0.1, (inputs, 16)), rng.normal(0, 0.1, 16),
             rng.normal(0, 1.0, (16, bits)), rng.normal(0, 0.5, bits), rng.normal(1, 0.2, bits)]
  return BitModel.quantise(weights, stages, groups, [client.model_id])


def _with_bit_model(codec_path: Path, folder: Path) -> Path:
  """A copy of a codec SavedModel with a tiny bit model in its folder."""
  import shutil  # pylint: disable=import-outside-toplevel
  from r2i_tf.bit_model import FILE_NAME  # pylint: disable=import-outside-toplevel
  path = folder / "codec"
  shutil.copytree(codec_path, path)
  tiny_bit_model(codec_path).save(path / FILE_NAME)
  return path


@pytest.fixture(scope="session")
def r2i_learned(r2i_exported, tmp_path_factory) -> Path:
  """The tiny R2I codec with a learned bit model beside it (bit_model.npz)."""
  return _with_bit_model(r2i_exported, tmp_path_factory.mktemp("r2i_learned"))


@pytest.fixture(scope="session")
def ir2i_learned(ir2i_exported, tmp_path_factory) -> Path:
  """The tiny IR2I codec with a learned bit model beside it."""
  return _with_bit_model(ir2i_exported, tmp_path_factory.mktemp("ir2i_learned"))
