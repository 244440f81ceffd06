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
