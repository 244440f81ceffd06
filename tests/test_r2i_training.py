"""R2I's training presets and schedules, and IR2I started from trained parts (`--init-*`)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from compression_eval import shipped, training
from compression_eval.errors import UserError
from r2i_tf import train
from r2i_tf.config import InpainterConfig, IR2IConfig, R2IConfig
from r2i_tf.inpainting import InpaintingModel
from r2i_tf.models import R2I
from tests.conftest import write_image_folder
from tests.r2i_fixtures import TINY, tiny_ir2i, tiny_r2i
from tests.test_deepsic_cli import _one_line_error, _run

KINDS = {"r2i": "decoding", "ir2i": "ir2i", "inpainter": "ir2i"}


def _config(kind: str, preset: str):
  return train.config_for(KINDS[kind], preset, inpainting_only=kind == "inpainter")


def _rate(preset: train.TrainPreset, steps: int, step: int) -> float:
  return float(train.learning_rate_schedule(preset, steps)(step))


@pytest.mark.parametrize("kind", ["r2i", "ir2i", "inpainter"])
def test_cpu_presets_hold_the_full_rate_for_nine_tenths_of_any_run(kind):
  preset = train.preset_for(_config(kind, "cpu"), "cpu")
  assert train.kind(_config(kind, "cpu")) == kind
  for steps in (preset.steps, 20_000):  # the default and a longer `--steps`
    assert _rate(preset, steps, 0) == _rate(preset, steps, int(0.9 * steps) - 1)
    assert _rate(preset, steps, 0) == pytest.approx(1e-3)
    assert _rate(preset, steps, int(0.95 * steps)) == pytest.approx(1e-4)
    assert _rate(preset, steps, steps - 1) == pytest.approx(1e-5)


def test_paper_presets_are_the_papers_schedules():
  r2i = train.preset_for(_config("r2i", "paper"), "paper")
  assert (r2i.steps, r2i.batch_size) == (60_000, 32)
  for step, rate in ((0, 1e-3), (29_990, 1e-3), (30_010, 1e-4), (44_990, 1e-4), (45_010, 1e-5),
                     (59_999, 1e-5)):
    assert _rate(r2i, r2i.steps, step) == pytest.approx(rate)
  ir2i = train.preset_for(_config("ir2i", "paper"), "paper")
  assert (ir2i.steps, ir2i.batch_size) == (110_000, 32)
  for step, rate in ((29_990, 1e-3), (30_010, 1e-4), (64_990, 1e-4), (65_010, 1e-5),
                     (89_990, 1e-5), (90_010, 1e-6), (109_999, 1e-6)):
    assert _rate(ir2i, ir2i.steps, step) == pytest.approx(rate)
  assert train.preset_for(_config("inpainter", "paper"), "paper") == r2i


@pytest.mark.parametrize("preset", ["cpu", "paper"])
def test_ir2i_trains_on_r2is_batch(preset):
  assert (train.preset_for(_config("ir2i", preset), preset).batch_size
          == train.preset_for(_config("r2i", preset), preset).batch_size == 32)


def test_the_compiled_model_follows_the_presets_schedule():
  config = IR2IConfig(coder=R2IConfig(**TINY), inpainter=InpainterConfig(filters=2, layers=2))
  preset = train.preset_for(config, "cpu")
  optimizer = train.build_model(config, preset, 1000).optimizer
  rate = tf.keras.optimizers.schedules.deserialize(optimizer.get_config()["learning_rate"])
  assert [float(rate(step)) for step in (899, 901, 999)] == pytest.approx([1e-3, 1e-4, 1e-5])


def _saved(model: tf.keras.Model, folder: Path, shipped_style: bool) -> Path:
  """`model` as a shipped folder (config.json, weights.npz) or a run folder (model/)."""
  if shipped_style:
    folder.mkdir(parents=True)
    shipped.write_weights(model, folder / shipped.WEIGHTS_FILE)
    (folder / "config.json").write_text(model.config.to_json())
  else:
    training.save_model(model, model.config.to_json(), folder / "model")
  return folder


def _tiny_inpainter(seed: int) -> InpaintingModel:
  tf.keras.utils.set_random_seed(seed)
  model = InpaintingModel(InpainterConfig(filters=2, layers=2))
  model.build_variables()
  return model


def _same_weights(mine: list, theirs: list) -> bool:
  """Whether two lists of layers hold the same weights (to float16's 1e-3)."""
  return all(np.allclose(a, b, atol=1e-3) for one, other in zip(mine, theirs)
             for a, b in zip(one.get_weights(), other.get_weights()))


@pytest.mark.parametrize("shipped_style", [True, False])
def test_ir2i_starts_from_a_trained_coder_and_inpainter(tmp_path, shipped_style):
  coder = _saved(tiny_r2i("decoding", seed=3), tmp_path / "coder", shipped_style)
  inpainter = _saved(_tiny_inpainter(seed=4), tmp_path / "inpainter", not shipped_style)
  config = tiny_ir2i().config
  parts = train.Parts(coder=train.load_part(coder, config.coder),
                      inpainter=train.load_part(inpainter, config.inpainter))
  preset = train.preset_for(config, "cpu")

  def starts_from_parts(model) -> tuple:
    """Whether the coder's and the inpainter's weights are the parts'."""
    return (_same_weights(model.coder.stages, parts.coder.stages),
            _same_weights([model.inpainter], [parts.inpainter.inpainter]))
  assert starts_from_parts(train.build_model(config, preset, 10, parts)) == (True, True)
  assert starts_from_parts(train.build_model(config, preset, 10)) == (False, False)


@pytest.mark.parametrize("shipped_style", [True, False])
def test_a_run_continues_from_a_trained_model_of_its_own_kind(tmp_path, shipped_style):
  """An IR2I continues from an IR2I's coder and inpainter; an R2I from one of its variant."""
  ir2i = _saved(tiny_ir2i(seed=7), tmp_path / "ir2i", shipped_style)
  config = tiny_ir2i().config
  parts = train.Parts(coder=train.load_part(ir2i, config.coder),
                      inpainter=train.load_part(ir2i, config.inpainter))
  model = train.build_model(config, train.preset_for(config, "cpu"), 10, parts)
  assert _same_weights(model.stages + [model.inpainter],
                       parts.coder.stages + [parts.inpainter.inpainter])
  assert not _same_weights(model.stages, tiny_ir2i().stages)  # a fresh one differs
  residual = _saved(tiny_r2i("residual", seed=5), tmp_path / "residual", shipped_style)
  coder = train.load_part(residual, tiny_r2i("residual").config)
  model = train.build_model(coder.config, train.preset_for(coder.config, "cpu"), 10,
                            train.Parts(coder=coder))
  assert _same_weights(model.stages, coder.stages)
  with pytest.raises(UserError, match="holds an R2I residual coder"):
    train.load_part(residual, tiny_r2i("decoding").config)


def test_a_mismatching_part_is_refused_in_one_line(tmp_path):
  config = tiny_ir2i().config
  full = _saved(tiny_r2i("full"), tmp_path / "full", shipped_style=True)
  wider = R2I(R2IConfig(**{**TINY, "encoder_filters": (4, 8, 8, 16)}))
  wider.build_variables()
  wider = _saved(wider, tmp_path / "wider", shipped_style=False)
  inpainter = _saved(_tiny_inpainter(seed=0), tmp_path / "inpainter", shipped_style=False)
  wide = _saved(_tiny_inpainter(seed=0), tmp_path / "wide", shipped_style=True)
  (tmp_path / "wide" / "config.json").write_text(InpainterConfig(filters=3, layers=2).to_json())
  (tmp_path / "empty").mkdir()
  cases = ((full, config.coder, "holds an R2I full coder"),
           (wider, config.coder, "holds an R2I decoding coder (encoder [4, 8, 8, 16]"),
           (inpainter, config.coder, "holds a multiscale inpainting network"),
           (full, config.inpainter, "needs a multiscale inpainting network (2 filters"),
           (wide, config.inpainter, "belong to another model"),
           (tmp_path / "empty", config.coder, "no trained R2I model"))
  for folder, expected, message in cases:
    with pytest.raises(UserError) as error:
      train.load_part(folder, expected)
    assert message in str(error.value) and "\n" not in str(error.value), str(error.value)


def test_init_flags_are_checked_before_anything_loads(tmp_path):
  base = ["scripts/train_r2i.py", "--dataset", f"folder:{tmp_path}", "--output",
          str(tmp_path / "r")]
  _one_line_error(_run(*base, "--variant", "ir2i", "--inpainting-only", "--init-coder",
                       str(tmp_path)), "--init-coder starts a run from a trained part")
  _one_line_error(_run(*base, "--variant", "ir2i-separate", "--inpainter", str(tmp_path),
                       "--init-inpainter", str(tmp_path)),
                  "--init-inpainter starts a run from a trained part: use it with --variant ir2i")
  _one_line_error(_run(*base, "--variant", "decoding", "--init-coder", str(tmp_path / "no")),
                  "--init-coder: model folder not found")
  _one_line_error(_run(*base, "--variant", "ir2i", "--init-coder", str(tmp_path / "nowhere")),
                  "--init-coder: model folder not found")


def test_summary_says_which_parts_a_run_started_from(tmp_path):
  folder = write_image_folder(tmp_path / "data", {"train": 2, "val": 1})
  config = train.config_for("ir2i", "cpu")
  tf.keras.utils.set_random_seed(0)
  coder = R2I(config.coder)
  coder.build_variables()
  _saved(coder, tmp_path / "coder", shipped_style=True)
  run = tmp_path / "run"
  result = _run("scripts/train_r2i.py", "--variant", "ir2i", "--dataset", f"folder:{folder}",
                "--steps", "1", "--batch-size", "1", "--init-coder", str(tmp_path / "coder"),
                "--output", str(run), timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  summary = json.loads((run / "summary.json").read_text())
  assert summary["init"] == {"coder": str(tmp_path / "coder"), "inpainter": "scratch"}
  assert summary["batch_size"] == 1 and "abs_tanh_8" in summary["validation"]
  assert summary["shards"] == 1  # a batch of 1 cannot be split
  assert "flips_8" in (run / training.HISTORY_FILE).read_text().splitlines()[0].split(",")


def test_width_flags_are_checked_before_anything_loads(tmp_path):
  base = ["scripts/train_r2i.py", "--dataset", f"folder:{tmp_path}", "--output",
          str(tmp_path / "r")]
  _one_line_error(_run(*base, "--encoder-filters", "64,128,256"),
                  "--encoder-filters takes the coder's 4 widths, got 3")
  _one_line_error(_run(*base, "--variant", "ir2i", "--inpainting-only", "--decoder-filters",
                       "1,2,3,4,5"), "--decoder-filters takes the coder's 5 widths, not the "
                  "inpainting network's")
  for flag, widths in (("--encoder-filters", "64,x,1,2"), ("--decoder-filters", "64,0,1,2,3")):
    result = _run(*base, flag, widths)  # argparse's usage error: exit status 2, one line
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0, result.stderr
    assert f"argument {flag}: expected positive integers" in result.stderr


def test_width_flags_set_the_coders_widths_for_training_and_the_codec(tmp_path):
  ir2i = train.config_for("ir2i", "cpu", encoder_filters=(4, 8, 8, 16))
  assert ir2i.coder.encoder_filters == (4, 8, 8, 16)
  assert ir2i.coder.decoder_filters == train.config_for("decoding", "cpu").decoder_filters
  folder = write_image_folder(tmp_path / "data", {"train": 2, "val": 1})
  run = tmp_path / "run"
  result = _run("scripts/train_r2i.py", "--dataset", f"folder:{folder}", "--steps", "1",
                "--batch-size", "1", "--encoder-filters", "4,8,8,16", "--decoder-filters",
                "16,8,8,4,4", "--output", str(run), timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  config = json.loads((run / "model" / "config.json").read_text())
  assert (config["encoder_filters"], config["decoder_filters"]) == ([4, 8, 8, 16],
                                                                  [16, 8, 8, 4, 4])
  assert train.load_part(run, R2IConfig(encoder_filters=(4, 8, 8, 16),
                                        decoder_filters=(16, 8, 8, 4, 4))).config.variant \
      == "decoding"
