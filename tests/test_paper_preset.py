"""The `paper` presets build the papers' models, and those train at the papers' batch and crop.

Each model is built at `--preset paper` through its trainer's `build_model`, its layers'
widths are checked against the paper (R2I's, which the paper leaves to its supplement,
against the preset's source, Toderici et al. 2016), and it takes one optimizer step on
the CPU. The step runs eagerly (`run_eagerly`): tracing a paper-size step costs 10-50 s
on two cores (R2I's eight stages unrolled), the eager step 2-5 s. IR2I at the batch of
32 takes 10-40 s a step on two cores, so it steps on a batch of 2, and the preset's batch
and crop are checked on their own.

The numbers the paper states are read from its text in ../shared/papers.
"""
from __future__ import annotations

import math
import re
from typing import Dict, List

import numpy as np
import pytest
import tensorflow as tf

from compression_eval.datasets.classification import ClassificationInfo
from deepsic_tf import train as deepsic_train
from deepsic_tf.layers import FeatureStage, ReconstructionStage
from deepsic_tf.presets import PRESETS
from r2i_tf import train as r2i_train
from r2i_tf.inpainting import MultiScaleConv
from tests.conftest import REPO_ROOT

PAPERS = REPO_ROOT.parent / "shared" / "papers"
# The convolutional residual encoder of Toderici et al. (2016), which the R2I paper starts
# from and whose widths the `paper` preset takes.
TODERICI_ENCODER = (64, 256, 256, 512)
TODERICI_DECODER = (512, 256, 256, 128, 64)


def _paper(name: str) -> str:
  path = PAPERS / name
  if not path.is_file():
    pytest.skip(f"paper text not found at {path}")
  return path.read_text()


@pytest.fixture(scope="module")
def deepsic_paper() -> str:
  return _paper("deepsic_luo_yang_song.txt")


@pytest.fixture(scope="module")
def r2i_paper() -> str:
  return _paper("learning_to_inpaint_baig_koltun_torresani.txt")


def _stated(text: str, pattern: str) -> int:
  """The number the paper's text gives where `pattern` (one group) matches."""
  match = re.search(pattern, text)
  assert match, f"the paper no longer says {pattern!r}"
  return int(match.group(1).replace(",", ""))


def _one_step(model: tf.keras.Model, parts: Dict[str, List[tf.Variable]], *batch) -> None:
  """One optimizer step, eagerly; its loss is finite and every part's weights moved."""
  before = {name: [variable.numpy() for variable in variables] for name, variables in parts.items()}
  model.run_eagerly = True
  loss = model.train_on_batch(*batch, return_dict=True)["loss"]
  assert math.isfinite(loss)
  for name, variables in parts.items():
    assert variables, name
    assert any(not np.array_equal(old, variable.numpy())
               for old, variable in zip(before[name], variables)), f"{name} did not change"


def test_deepsic_paper_preset_is_the_papers_model_and_trains(deepsic_paper):
  preset = PRESETS["paper"]
  assert preset.batch_size == _stated(deepsic_paper, r"\$B = (\d+)\$ as the batch size")
  assert preset.patch_size == _stated(deepsic_paper, r"trained with (\d+)×\1 patches")
  classes = _stated(deepsic_paper, r"from ([\d,]+) classes")
  info = ClassificationInfo(classes, tuple(f"n{label:08d}" for label in range(classes)), None)
  tf.keras.utils.set_random_seed(0)
  model = deepsic_train.build_model(deepsic_train.config_for("post", "paper", info), preset,
                                    preset.steps)
  filters = _stated(deepsic_paper, r"We use (\d+) filters \(size 7×7\) in the first stage")
  extractor = [layer for layer in model.analysis.layers if isinstance(layer, FeatureStage)]
  assert [stage.conv.kernel.shape for stage in extractor] == [
      (7, 7, 3, filters), (5, 5, filters, filters), (3, 3, filters, filters),
      (3, 3, filters, filters)]
  reconstruction = [layer for layer in model.synthesis.layers
                    if isinstance(layer, ReconstructionStage)]
  assert [stage.deconv.filters for stage in reconstruction] == [filters, filters, filters, 3]
  assert model.head.get_layer("fc2").units == classes
  size = preset.patch_size
  images = tf.random.stateless_uniform((preset.batch_size, size, size, 3), seed=(0, 1))
  labels = tf.random.stateless_uniform((preset.batch_size,), seed=(0, 2), maxval=classes,
                                       dtype=tf.int32)
  _one_step(model, {"f": model.analysis.trainable_variables,
                    "g": model.synthesis.trainable_variables,
                    "h": model.head.trainable_variables,
                    "entropy model": list(model.prior.trainable_variables)}, images, labels)


def _check_coder(model, r2i_paper: str) -> None:
  """R2I's stages, code and widths, in `model` (an R2I or an IR2I's coder)."""
  assert len(model.stages) == _stated(r2i_paper, r"Each of our models has (\d+) stages")
  bits = 0.125 * _stated(r2i_paper, r"content of (\d+)×\1 image patches") ** 2
  for stage in model.stages:
    assert [layer.filters for layer in stage.encoder] == list(TODERICI_ENCODER)
    assert [layer.filters for layer in stage.decoder[:-1]] == list(TODERICI_DECODER)
    assert stage.to_code.filters * 2 * 2 == bits  # 0.125 bpp a stage, at 2x2


def test_r2i_paper_preset_is_the_papers_model_and_trains(r2i_paper):
  config = r2i_train.config_for("decoding", "paper")
  preset = r2i_train.preset_for(config, "paper")
  crop = r2i_train.crop_size(config)
  assert crop == _stated(r2i_paper, r"content of (\d+)×\1 image patches")
  # The paper gives no batch size: 32 is the preset's (`r2i_tf.presets`).
  assert "batch" not in r2i_paper.lower() and preset.batch_size == 32
  tf.keras.utils.set_random_seed(0)
  model = r2i_train.build_model(config, preset, preset.steps)
  _check_coder(model, r2i_paper)
  patches = tf.random.stateless_uniform((preset.batch_size, crop, crop, 3), seed=(1, 1))
  _one_step(model, {"first stage": model.stages[0].trainable_variables,
                    "last stage": model.stages[-1].trainable_variables}, patches)


def test_ir2i_paper_preset_is_the_papers_model_and_trains(r2i_paper):
  config = r2i_train.config_for("ir2i", "paper")
  preset = r2i_train.preset_for(config, "paper")
  crop = r2i_train.crop_size(config)
  assert crop == _stated(r2i_paper, r"context region C of size (\d+)×\1")
  assert preset.batch_size == 32  # R2I's, as the preset says; the paper gives none
  tf.keras.utils.set_random_seed(0)
  model = r2i_train.build_model(config, preset, preset.steps)
  _check_coder(model, r2i_paper)
  layers = [layer for layer in model.inpainter.layers if isinstance(layer, MultiScaleConv)]
  assert len(layers) == _stated(r2i_paper, r"Our inpainting network has (\d+) multi-scale")
  per_dilation = _stated(r2i_paper, r"consists of (\d+) filters each for dilation factors")
  assert {(layer.filters, layer.dilations) for layer in layers} == {(per_dilation, (1, 2, 4, 8))}
  crops = tf.random.stateless_uniform((2, crop, crop, 3), seed=(2, 1))
  _one_step(model, {"inpainter": model.inpainter.trainable_variables,
                    "first stage": model.stages[0].trainable_variables,
                    "last stage": model.stages[-1].trainable_variables}, crops)
