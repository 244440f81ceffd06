"""Reproducing the papers' tables: shipped weights, the model zoo, Table I's measurement,
the tables' arithmetic and the script's refusals."""
from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from compression_eval import provenance, rd, shipped, training
from compression_eval.errors import UserError
from compression_zoo import families, paper_tables, reproduce_tables, zoo
from deepsic_tf import train as deepsic_train
from deepsic_tf import train_cli as deepsic_train_cli
from deepsic_tf.presets import LAMBDA_SEMANTIC, PRESETS
from deepsic_tf.accuracy import accuracy
from deepsic_tf.config import DeepSICConfig
from deepsic_tf.reference import ReferenceClassifier
from tests.conftest import REPO_ROOT, smooth_image
from r2i_tf import train_cli as r2i_train_cli
from r2i_tf.presets import (IR2I_CPU_RUNS, IR2I_LOW_RATE_STEPS, LOW_RATE, LOW_RATE_RUNS,
                            R2I_CPU_RUNS, R2I_LOW_RATE_STEPS)
from tests.deepsic_fixtures import TINY, tiny_model

SCRIPT = REPO_ROOT / "scripts" / "reproduce_tables.py"


def test_shipped_weights_are_float16_and_refuse_another_model(tmp_path):
  model = tiny_model("post", seed=1)
  path = shipped.write_weights(model, tmp_path / "weights.npz")
  with np.load(path) as data:  # half the bytes of float32: every weight stored as float16
    assert {data[key].dtype for key in data.files if key != "names"} == {np.dtype(np.float16)}
  other = tiny_model("post", seed=2)  # same config, other values
  shipped.read_weights(other, path)
  assert len(shipped.model_weights(model)) < len(model.weights)  # metric state left out
  for original, loaded in zip(shipped.model_weights(model), shipped.model_weights(other)):
    np.testing.assert_array_equal(loaded.numpy(), original.numpy().astype(np.float16))
  with pytest.raises(UserError, match="belong to another model"):
    shipped.read_weights(tiny_model("post", bottleneck_channels=4), path)
  (tmp_path / "broken.npz").write_bytes(path.read_bytes()[:100])
  with pytest.raises(UserError, match="cannot read the weights"):
    shipped.read_weights(other, tmp_path / "broken.npz")


def test_a_run_ships_with_its_readme_and_loads_back(tmp_path):
  model = tiny_model("pre", seed=3)
  run = tmp_path / "runs" / "deepsic-pre-q2"
  training.save_model(model, model.config.to_json(), run / "model")
  summary = {"dataset": "folder:x", "preset": "cpu", "steps": 7, "steps_per_epoch": 5,
             "curve_images": 64, "validation": {"top1": 0.25, "bpp": 0.5}}
  (run / "summary.json").write_text(json.dumps(summary))
  (run / training.HISTORY_FILE).write_text("epoch,loss,val_psnr,val_bpp\n0,9,20.5,0.8\n"
                                           "1,8,22.0,0.7\n")
  entry = zoo.by_name("deepsic-pre-q2")
  zoo.ship(entry, run, tmp_path / "saved" / entry.name, "python train.py --x", 125.0)
  folder = tmp_path / "saved" / entry.name
  assert sorted(p.name for p in folder.iterdir()) == [
      "README.md", "config.json", "learning_curve.png", "summary.json", "weights.npz"]
  assert (folder / "learning_curve.png").read_bytes().startswith(b"\x89PNG")
  readme = (folder / "README.md").read_text()
  assert "`python train.py --x`" in readme and "0:02:05" in readme and "top1 0.25" in readme
  assert "![learning curve](learning_curve.png)" in readme and "on 64 center" in readme
  assert json.loads((folder / "summary.json").read_text())["wall_seconds"] == 125.0
  # post-q2's lambda2 = 1 chain (transforms, prior, head), then its own transforms, prior
  # and head: the README says so.
  assert "- Preset: `cpu`, 7 steps after 5 earlier runs' (the first 5 commands).\n" in readme
  warmed = zoo.by_name("deepsic-post-q4")  # a warm-up, then two chains of three
  zoo.ship(warmed, run, tmp_path / "saved" / warmed.name, "python a && python b", 1.0)
  assert "7 steps after 6 earlier runs' (the first 6 commands)" in (
      tmp_path / "saved" / warmed.name / "README.md").read_text()
  chained = dataclasses.replace(zoo.by_name("r2i-decoding"), trainer="deepsic")
  zoo.ship(chained, run, tmp_path / "saved" / "chained",
           "python a && python b && python c && python d && python e", 1.0)
  assert "7 steps after 4 earlier runs' (the first 4 commands)" in (
      tmp_path / "saved" / "chained" / "README.md").read_text()
  loaded = deepsic_train.load_model(folder)  # what export_savedmodel.py --model reads
  images = tf.constant(smooth_image(32, 32)[np.newaxis] / 255.0, tf.float32)
  np.testing.assert_allclose(loaded(images)[0].numpy(), model(images)[0].numpy(), atol=0.02)
  with pytest.raises(UserError, match="training has not finished"):
    zoo.ship(entry, tmp_path / "nothing", tmp_path / "saved" / "x", "c", None)


def test_training_missing_models_skips_finished_runs(tmp_path, monkeypatch):
  # IR2I's chain starts with decoding's first three runs: where decoding's chain trained
  # them into the same runs folder, they are not trained again.
  runs = tmp_path / "runs"
  for run in range(1, R2I_CPU_RUNS + 1):
    (runs / f"r2i-decoding-run{run}").mkdir(parents=True)
    (runs / f"r2i-decoding-run{run}" / "summary.json").write_text("{}")
  trained, shipped_names = [], []
  monkeypatch.setattr(reproduce_tables.subprocess, "run", lambda command, **_: (
      trained.append(command[command.index("--output") + 1]),
      subprocess.CompletedProcess(command, 0))[1])
  monkeypatch.setattr(zoo, "ship", lambda model, *_: shipped_names.append(model.name))
  reproduce_tables.train_missing(tmp_path / "models", runs, "data", "cpu", "default",
                                 ["r2i-ir2i"])
  assert trained == [str(runs / f"r2i-ir2i-run{run}") for run in (1, 2, 3, 4)] + [
      str(runs / "r2i-ir2i")]
  assert shipped_names == ["r2i-ir2i"]


def test_zoo_commands_are_ones_the_trainers_accept(tmp_path):
  parsers = {"deepsic": deepsic_train_cli.parse_args, "r2i": r2i_train_cli.parse_args}
  for entry in zoo.MODELS:
    *earlier, command = zoo.training_commands(entry, "folder:data", "cpu", tmp_path,
                                              tmp_path / "models")
    assert command[1] == families.by_name(entry.trainer).train_script
    args = parsers[entry.trainer](command[2:])  # exits on a flag the trainer lacks
    assert args.output == str(tmp_path / entry.name)
    if earlier:  # an earlier run trains first, and the model starts from it
      folder = str(Path(parsers[entry.trainer](earlier[-1][2:]).output) / "model")
      assert [getattr(args, flag[2:].replace("-", "_")) for flag in entry.warmup_flags] == [
          folder] * len(entry.warmup_flags)
  # At cpu, R2I trains R2I_CPU_RUNS runs and LOW_RATE_RUNS low-rate runs, each continuing
  # the last; at paper, one.
  chain = zoo.training_commands(zoo.by_name("r2i-full-seed1"), "d", "cpu", tmp_path, tmp_path)
  runs = R2I_CPU_RUNS + LOW_RATE_RUNS
  assert len(chain) == runs == 5 and "--init-coder" not in chain[0]
  parsed = [r2i_train_cli.parse_args(command[2:]) for command in chain]
  assert parsed[-1].output == str(tmp_path / "r2i-full-seed1")
  assert len({args.output for args in parsed}) == runs
  for previous, args in zip(parsed, parsed[1:]):
    assert args.init_coder == str(Path(previous.output) / "model") and args.seed == 1
  assert [(args.steps, args.learning_rate) for args in parsed] == [(None, None)] * 3 + [
      (R2I_LOW_RATE_STEPS, LOW_RATE)] * 2
  paper = zoo.training_commands(zoo.by_name("r2i-full-seed1"), "d", "paper", tmp_path, tmp_path)
  assert len(paper) == 1 and "--init-coder" not in paper[0] and "--learning-rate" not in paper[0]
  separate = zoo.training_commands(zoo.by_name("r2i-ir2i-separate"), "d", "paper", tmp_path,
                                   tmp_path / "models", "mirrored")[-1]
  assert str(tmp_path / "models" / "inpainter-multiscale") in separate
  assert separate[separate.index("--strategy") + 1] == "mirrored"
  # At cpu, IR2I's first run starts from the trained parts: decoding's coder before its
  # low-rate runs (decoding's first runs come first in the chain) and the shipped
  # inpainter; each later one continues the last: both parts, or the coder alone where
  # the inpainter stays frozen; the last two at the low rate. At paper, one run from scratch.
  decoding = zoo.training_commands(zoo.by_name("r2i-decoding"), "d", "cpu", tmp_path,
                                   tmp_path / "models")
  for name, parts in (("r2i-ir2i", 2), ("r2i-ir2i-separate", 1)):
    chain = zoo.training_commands(zoo.by_name(name), "d", "cpu", tmp_path, tmp_path / "models")
    assert chain[:R2I_CPU_RUNS] == decoding[:R2I_CPU_RUNS]
    *earlier, command = chain[R2I_CPU_RUNS:]
    assert len(earlier) == IR2I_CPU_RUNS + LOW_RATE_RUNS - 1 == 4
    first = r2i_train_cli.parse_args(earlier[0][2:])
    assert first.init_coder == str(tmp_path / f"r2i-decoding-run{R2I_CPU_RUNS}" / "model")
    assert (first.init_inpainter or first.inpainter) == str(
        tmp_path / "models" / "inpainter-multiscale")
    assert earlier[1].count(str(tmp_path / f"{name}-run1" / "model")) == parts
    assert command.count(str(tmp_path / f"{name}-run4" / "model")) == parts
    low = [r2i_train_cli.parse_args(args[2:]) for args in (earlier[-1], command)]
    assert [(args.steps, args.learning_rate) for args in low] == [
        (IR2I_LOW_RATE_STEPS, LOW_RATE)] * 2
    paper = zoo.training_commands(zoo.by_name(name), "d", "paper", tmp_path, tmp_path)
    assert len(paper) == 1 and "--init-coder" not in paper[0]
  q4 = zoo.training_commands(zoo.by_name("deepsic-post-q4"), "d", "cpu", tmp_path, tmp_path)
  assert len(q4) == 7 and q4[0][q4[0].index("--lambda") + 1] == "0.1"
  # At cpu, each DeepSIC chain ends by relearning the prior alone on whole images, from
  # the run before it, then the head alone on Table I's crops, at lambda2 = 1 (post-semantic);
  # a shipped model continues it at LAMBDA_SEMANTIC and does so again. At paper, one run
  # from scratch.
  parsed = [deepsic_train_cli.parse_args(command[2:]) for command in q4]
  for transforms, prior_run, head_run in (parsed[1:4], parsed[4:7]):
    assert prior_run.entropy_model_only and prior_run.patch_size == 224
    assert prior_run.init == str(Path(transforms.output) / "model")
    assert head_run.head_only and head_run.patch_size == 224
    assert head_run.init == str(Path(prior_run.output) / "model")
  assert [args.lambda_semantic for args in parsed] == [None] * 4 + [LAMBDA_SEMANTIC] * 3
  assert parsed[4].init == str(tmp_path / "deepsic-post-q4-lambda2-1" / "model")
  assert parsed[-1].output == str(tmp_path / "deepsic-post-q4")
  names = [entry.name for entry in zoo.MODELS]
  for entry in zoo.MODELS:  # every model is trained after those it needs
    assert all(names.index(need) < names.index(entry.name) for need in entry.needs)
  post = zoo.by_name("deepsic-post-q2")
  assert "--steps" in zoo.training_commands(post, "d", "cpu", tmp_path, tmp_path)[-1]
  assert "--steps" not in zoo.training_commands(post, "d", "paper", tmp_path, tmp_path)[-1]
  # Rate points start from a trained neighbour at lambda2 = 1; each pre-semantic model
  # continues the post-semantic lambda2 = 1 model of its rate, as the post-semantic one does.
  pre = zoo.training_commands(zoo.by_name("deepsic-pre-q2"), "d", "cpu", tmp_path, tmp_path)
  assert pre[:3] == zoo.training_commands(zoo.by_name("deepsic-post-q2"), "d", "cpu",
                                          tmp_path, tmp_path)[:3]
  pre = deepsic_train_cli.parse_args(pre[3][2:])
  assert pre.architecture == "pre" and pre.lambda_semantic == LAMBDA_SEMANTIC
  assert pre.init == str(tmp_path / "deepsic-post-q2-lambda2-1" / "model")
  # q1 has the paper's coarser subsampling (section IV-A), which does not carry over by
  # --init: three runs from scratch (joint, prior, head), each at that subsampling.
  for architecture in ("pre", "post"):
    q1 = zoo.training_commands(zoo.by_name(f"deepsic-{architecture}-q1"), "d", "cpu",
                               tmp_path, tmp_path)
    assert len(q1) == 3 and "--init" not in q1[0]
    parsed = [deepsic_train_cli.parse_args(command[2:]) for command in q1]
    assert {args.subsampling for args in parsed} == {"4,2,2,2"}
    assert parsed[0].architecture == architecture and parsed[0].patch_size == 128
    paper, = zoo.training_commands(zoo.by_name(f"deepsic-{architecture}-q1"), "d", "paper",
                                   tmp_path, tmp_path)
    assert deepsic_train_cli.parse_args(paper[2:]).subsampling == "4,2,2,2"
  points = [tuple(float(entry.flags[entry.flags.index(flag) + 1])
                  for flag in ("--filters", "--lambda")) for entry in
            sorted((e for e in zoo.MODELS if e.name.startswith("deepsic-post-")),
                   key=lambda e: e.name)]
  assert points == sorted(points) and len(set(points)) == 4  # each point above the last


@pytest.mark.parametrize("architecture", ["pre", "post"])
def test_table_i_accuracy_is_what_the_codec_says_of_each_file(architecture, codec_modules,
                                                              tiny_models):
  """Batches through the model give exactly the classes (and about the bits) of real files."""
  codec, model = codec_modules[architecture], tiny_models[architecture]
  images = np.stack([smooth_image(32, 32, seed) for seed in range(6)])
  files = [codec.compress(tf.constant(image))["file"] for image in images]
  labels = np.array([int(codec.classify(data)["label"]) for data in files])
  labels[::2] = (labels[::2] + 1) % model.config.num_classes  # half of them wrong
  batches = tf.data.Dataset.from_tensor_slices((images / 255.0, labels)).batch(4)
  measured = accuracy(model, batches)
  assert measured["top1"] == pytest.approx(0.5) and measured["images"] == 6
  assert measured["top5"] == pytest.approx(1.0)  # 5 classes
  file_bpp = np.mean([8 * len(data.numpy()) for data in files]) / (32 * 32)
  header_bpp = 8 * 20 / (32 * 32)  # bytes of header that the entropy model does not see
  assert measured["bpp"] < file_bpp <= measured["bpp"] + header_bpp + 8 * 4 / (32 * 32)


def test_the_reference_classifier_has_no_codec(tmp_path):
  config = DeepSICConfig(architecture="reference", num_classes=5, **TINY)
  model = deepsic_train.build_model(config, PRESETS["cpu"], 10)
  assert isinstance(model, ReferenceClassifier)
  images = np.zeros((4, 32, 32, 3), np.float32)
  predicted = int(np.argmax(model(images, training=False)[0]))  # every image is the same
  labels = (predicted + np.array([0, 0, 1, 2])) % 5  # two of four right: top-1 is 0.5
  batches = tf.data.Dataset.from_tensor_slices((images, labels)).batch(2)
  result = accuracy(model, batches)
  assert result["bpp"] is None and result["top1"] == pytest.approx(0.5)
  training.save_model(model, config.to_json(), tmp_path / "model")
  export = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "export_savedmodel.py"),
                           "--model", str(tmp_path / "model"), "--output", str(tmp_path / "x")],
                          capture_output=True, text=True, check=False)
  assert export.returncode == 1
  assert export.stderr.strip().splitlines() == [
      f"error: {tmp_path / 'model'} holds the uncompressed reference classifier, which has no "
      "codec to export"]


def _curve(name: str, bpp, quality) -> rd.RDCurve:
  count = len(bpp)
  return rd.RDCurve(name, name, {"bpp": list(bpp), "ms-ssim-rgb": list(quality),
                                 "ssim-rgb": list(quality), "encoding_time": [0.1] * count,
                                 "decoding_time": [0.2] * count})


def test_savings_tables_and_findings():
  bpp = np.array([0.125, 0.25, 0.5, 0.75, 1.0])
  quality = 1.0 - 0.3 * np.exp(-3 * bpp)
  curves = {"r2i-residual": _curve("r2i-residual", bpp, quality),
            "r2i-decoding": _curve("r2i-decoding", bpp * 0.8, quality),  # 20 % fewer bits
            "r2i-full": _curve("r2i-full", bpp * 0.9, quality),
            "r2i-prediction": _curve("r2i-prediction", bpp * 1.1, quality)}
  paper = [{"approach": "r2i_decoding", "msssim_rate_savings_pct": "17.951"}]
  table = paper_tables.savings_table(
      "Figure 3a", curves, "r2i-residual",
      [("r2i-prediction", ""), ("r2i-full", ""), ("r2i-decoding", "r2i_decoding")],
      [("ms-ssim-rgb", "msssim_rate_savings_pct")], (0.0, 1.01), paper)
  values = {row["approach"]: row["savings_ms-ssim-rgb"] for row in table.rows}
  assert values["r2i-decoding"] == pytest.approx(20.0, abs=0.5)
  assert values["r2i-prediction"] == pytest.approx(-10.0, abs=0.5)
  assert "| r2i-decoding | +20.0 | +18.0 | 0.100 | 0.200 |" in table.markdown
  apart = {**curves, "r2i-full": _curve("r2i-full", bpp, quality - 0.5)}  # shares no quality
  disjoint = paper_tables.savings_table("3a", apart, "r2i-residual", [("r2i-full", "")],
                                        [("ms-ssim-rgb", "")], (0.0, 1.01), [])
  assert disjoint.rows[0]["savings_ms-ssim-rgb"] is None
  assert "| r2i-full | no overlap |" in disjoint.markdown
  no_order = paper_tables.findings({}, {"pre": [], "post": []}, disjoint, disjoint, {})
  assert not no_order[-2].holds and "r2i-full +nan %" in no_order[-2].evidence
  accuracy_ = {f"{arch}{rate}": {"top1": top1, "images": 1000} for arch, rate, top1 in
               [("pre", 1, 0.3), ("pre", 2, 0.5), ("post", 1, 0.32), ("post", 2, 0.45)]}
  rates = {"pre": ["pre1", "pre2"], "post": ["post1", "post2"]}
  fig5a = paper_tables.Table("5a", [], [], [{"approach": "r2i-ir2i", "savings_ms-ssim-rgb": 5.0},
                                        {"approach": "r2i-ir2i-separate",
                                         "savings_ms-ssim-rgb": 30.0},
                                        {"approach": "r2i-decoding", "savings_ms-ssim-rgb": 20.0}])
  found = paper_tables.findings(accuracy_, rates, table, fig5a,
                                {"multiscale": 0.5, "vanilla": 0.45, "biharmonic": 0.49})
  verdicts = [item.holds for item in found]
  # rises (pre, post), pre ~ post fails at the second rate (0.05), R2I's order holds
  # (20 > 10 > -10 is not > 0: prediction is behind the residual encoder), 5a fails, Table 1 holds.
  assert verdicts == [True, True, False, False, False, True]
  assert "pre minus post -0.020, +0.050" in found[2].evidence


def test_decoding_must_save_the_target_in_every_pairing_of_seeds():
  bpp = np.array([0.125, 0.25, 0.5, 0.75, 1.0])
  quality = 1.0 - 0.3 * np.exp(-3 * bpp)
  residual = {"r2i-residual": _curve("r2i-residual", bpp, quality),
              "r2i-residual-seed1": _curve("r2i-residual-seed1", bpp * 0.97, quality)}
  pairs = [(anchor, name) for anchor in residual
           for name in (*residual, "r2i-decoding", "r2i-decoding-seed1") if name != anchor]
  empty = paper_tables.Table("", [], [], [])
  for seed1_bits, holds in ((0.85, True), (0.93, False)):  # 15 % and 7 % fewer bits
    curves = {**residual, "r2i-decoding": _curve("r2i-decoding", bpp * 0.8, quality),
              "r2i-decoding-seed1": _curve("r2i-decoding-seed1", bpp * seed1_bits, quality)}
    table = paper_tables.seed_pairs("3a seeds", curves, pairs, "ms-ssim-rgb", (0.0, 1.01))
    assert len(table.rows) == 6
    seed1_vs_seed0 = [row for row in table.rows if row["anchor"] == "r2i-residual"
                      and row["approach"] == "r2i-residual-seed1"]
    assert seed1_vs_seed0[0]["savings_ms-ssim-rgb"] == pytest.approx(3.0, abs=0.3)
    found = paper_tables.findings({}, {"pre": [], "post": []}, empty, empty, {}, seeds=table)
    seeds = [item for item in found if "every pairing" in item.claim]
    assert [item.holds for item in seeds] == [holds]
    assert "residual seed against seed -3." in seeds[0].evidence


def test_the_seed_ranking_names_the_variants_whose_spreads_overlap():
  bpp = np.array([0.125, 0.25, 0.5, 0.75, 1.0])
  quality = 1.0 - 0.3 * np.exp(-3 * bpp)
  order = ["r2i-decoding", "r2i-full", "r2i-prediction", "r2i-residual"]
  # Bits of each seed against the residual encoder's first seed.
  for full_seed1, ties in ((0.88, []), (0.74, ["r2i-decoding ~ r2i-full"])):
    bits = {"r2i-residual": 1.0, "r2i-residual-seed1": 0.98, "r2i-decoding": 0.70,
            "r2i-decoding-seed1": 0.75, "r2i-full": 0.85, "r2i-full-seed1": full_seed1,
            "r2i-prediction": 0.93, "r2i-prediction-seed1": 0.94}
    curves = {name: _curve(name, bpp * factor, quality) for name, factor in bits.items()}
    pairs = [(anchor, name) for anchor in ("r2i-residual", "r2i-residual-seed1")
             for name in bits if name != anchor]
    table = paper_tables.seed_pairs("3a seeds", curves, pairs, "ms-ssim-rgb", (0.0, 1.01))
    found = paper_tables.seed_ranking(table, order)
    assert found.holds == (not ties)
    assert all(tie in found.evidence for tie in ties)
    assert ("within noise" in found.evidence) == bool(ties)
    assert "r2i-residual -2.0 to +2.0 %" in found.evidence.replace("-2.1", "-2.0").replace(
        "+2.1", "+2.0")


def test_ir2i_must_save_the_target_against_every_decoding_seed():
  bpp = np.array([0.25, 0.375, 0.5, 0.75, 1.0])
  quality = 1.0 - 0.3 * np.exp(-3 * bpp)
  empty = paper_tables.Table("", [], [], [])
  decoding = {"r2i-decoding": 1.0, "r2i-decoding-seed1": 0.95}
  for joint_bits, holds in ((0.75, True), (0.83, False)):  # 20-25 % and 13-17 % fewer bits
    bits = {**decoding, "r2i-ir2i": joint_bits, "r2i-ir2i-separate": 0.9}
    curves = {name: _curve(name, bpp * factor, quality) for name, factor in bits.items()}
    pairs = [(anchor, name) for anchor in decoding for name in ("r2i-ir2i", "r2i-ir2i-separate")]
    table = paper_tables.seed_pairs("5a", curves, pairs, "ms-ssim-rgb", (0.0, 1.01))
    found = paper_tables.findings({}, {"pre": [], "post": []}, empty, empty, {},
                                  ir2i_direct=table)
    assert [item.holds for item in found if "every R2I decoding seed" in item.claim] == [holds]
    separate = "r2i-ir2i-separate +5.3 to +10.0 %"  # 0.9 of 0.95 and of 1.0
    assert separate in found[-1].evidence, found[-1].evidence


def test_entropy_coded_rows_compare_on_the_quality_range_they_share():
  # JPEG spends 1.9 times the bits at the lowest quality only. Decoding's curve starts at
  # one stage (0.125 bpp), IR2I's at its two-stage first code (0.25 bpp), with 5 % fewer
  # bits than decoding under every coding; learned coding saves 30 % of either's bits.
  bpp = np.array([0.125, 0.25, 0.375, 0.5, 0.75, 1.0])
  quality = 1.0 - 0.3 * np.exp(-3 * bpp)
  curves = {"jpeg": _curve("jpeg", np.where(bpp < 0.2, bpp * 1.9, bpp), quality)}
  for _, suffix in paper_tables.ENTROPY_CODINGS:
    scale = 0.7 if suffix == "-learned" else 1.0
    curves[f"r2i-decoding{suffix}"] = _curve("d", bpp * scale, quality)
    curves[f"r2i-ir2i{suffix}"] = _curve("i", bpp[1:] * scale * 0.95, quality[1:])
  # IR2I with a one-stage first code: from stage 1 on, 5 % fewer bits than decoding.
  curves["r2i-ir2i-first1-learned"] = _curve("i1", bpp * 0.7 * 0.95, quality)
  rows = [(f"{name}{suffix}", "") for _, suffix in paper_tables.ENTROPY_CODINGS
          for name in ("r2i-decoding", "r2i-ir2i")] + [("r2i-ir2i-first1-learned", "")]
  metric = (("ms-ssim-rgb", ""),)
  own = paper_tables.savings_table("2", curves, "jpeg", rows, metric, (0.0, 1.0), [])
  shared = paper_tables.savings_table("2", curves, "jpeg", rows, metric, (0.0, 1.0), [],
                                      shared_quality=True)
  assert f"ms-ssim-rgb {quality[1]:.4f}-{quality[-1]:.4f})" in shared.title
  mine, common = ({row["approach"]: row["savings_ms-ssim-rgb"] for row in table.rows}
                  for table in (own, shared))
  # Each over its own range, decoding gains JPEG's weak start and ranks above IR2I ...
  assert mine["r2i-decoding-learned"] > mine["r2i-ir2i-learned"]
  # ... on the range both reach, IR2I's 5 % shows.
  assert common["r2i-decoding-learned"] == pytest.approx(30.0, abs=0.5)
  assert common["r2i-ir2i-learned"] == pytest.approx(33.5, abs=0.5)
  direct = paper_tables.seed_pairs(
      "IR2I against decoding", curves,
      [(f"r2i-decoding{suffix}", f"r2i-ir2i{suffix}")
       for _, suffix in paper_tables.ENTROPY_CODINGS], "ms-ssim-rgb", (0.0, 1.0))
  # ... while IR2I with a one-stage first code shares decoding's start and ranks above it.
  assert mine["r2i-ir2i-first1-learned"] > mine["r2i-decoding-learned"]
  # Findings: both >= least; IR2I above decoding in Table 2 with the paper's first code,
  # then with one stage; IR2I against decoding head to head.
  for least, holds in ((20.0, [True, False, True, True]), (35.0, [False, False, True, True])):
    found = paper_tables.entropy_coding_findings(own, shared, direct, least=least)
    assert [item.holds for item in found] == holds
  assert "stage 1" in found[2].claim and "stages 1-2" in found[1].claim
  assert "r2i-ir2i-learned +5.0 %" in found[-1].evidence
  assert "quality range all share: r2i-decoding-learned +30.0 %" in found[-1].evidence
  worse = {**curves, "r2i-ir2i-learned": _curve("i", bpp[1:] * 0.8, quality[1:])}
  behind = paper_tables.seed_pairs("", worse, [("r2i-decoding-learned", "r2i-ir2i-learned")],
                                   "ms-ssim-rgb", (0.0, 1.0))
  assert not paper_tables.entropy_coding_findings(own, shared, behind)[-1].holds


def test_stage_health_flags_a_saturated_binariser_and_a_stage_that_adds_nothing():
  bpp = np.array([0.125, 0.25, 0.375, 0.5])
  psnr = {"healthy": [24.0, 25.5, 26.4, 26.9], "flat": [24.0, 25.5, 25.55, 26.0]}
  curves = {name: rd.RDCurve(name, name, {"bpp": list(bpp), "psnr-rgb": values})
            for name, values in psnr.items()}
  empty = paper_tables.Table("", [], [], [])
  for saturation, flat, holds in ((0.85, False, True), (0.93, False, False),
                                  (0.85, True, False)):
    tanh = {"healthy": [0.8, 0.75, saturation, 0.7]}
    if flat:
      tanh["flat"] = [0.8, 0.7, 0.7, 0.7]
    table = paper_tables.stage_health(curves, {**tanh, "not shipped": [0.99]})
    assert [row["model"] for row in table.rows] == list(tanh)
    assert table.rows[0]["gains_db"] == pytest.approx([1.5, 0.9, 0.5])
    found = paper_tables.findings({}, {"pre": [], "post": []}, empty, empty, {}, stages=table)
    assert [item.holds for item in found if "R2I's stages" in item.claim] == [holds]
  assert "smallest gain +0.05 dB (flat)" in found[-1].evidence


def test_table_i_findings_are_the_papers_rise_ceiling_and_approach():
  low, high = paper_tables.binomial_interval(0.5, 3925)
  assert low == pytest.approx(0.5 - 1.96 * math.sqrt(0.25 / 3925), abs=1e-4)
  assert high - 0.5 == pytest.approx(0.5 - low, abs=1e-6)  # symmetric at one half
  assert paper_tables.binomial_interval(0.0, 10)[0] == 0.0  # clamped to [0, 1]
  table = paper_tables.Table("", [], [], [])

  def verdicts(lowest: float, highest: float, reference: float) -> list:
    accuracy_ = {name: {"top1": top1, "images": 3925} for name, top1 in
                 (("a", lowest), ("b", highest), ("deepsic-reference", reference))}
    found = paper_tables.findings(accuracy_, {"pre": ["a", "b"], "post": ["a", "b"]}, table,
                                  table, {})
    return [(item.claim.split(" (")[0], item.holds) for item in found[:5]]

  # 3 points and apart beyond both intervals (+-0.015 each); within 5 of a reference whose
  # interval the best compressed model stays below.
  assert [holds for _, holds in verdicts(0.60, 0.64, 0.67)] == [True] * 5
  rise, approach = verdicts(0.60, 0.625, 0.67)[:2]  # 2.5 points: too little
  assert rise == ("Table I: pre-semantic accuracy rises with rate", False) and approach[1]
  assert [holds for _, holds in verdicts(0.60, 0.64, 0.70)] == [True, False, True, False, True]
  ceiling = verdicts(0.60, 0.64, 0.65)[4]  # 0.64 sits inside the reference's interval
  assert ceiling == ("Table I: the uncompressed reference is the ceiling", False)


def test_table_i_puts_the_papers_rates_beside_ours_in_order(anchors_dir):
  paper = paper_tables.read_paper(anchors_dir / "paper_tables", "table_i")
  measured = {"low": {"top1": 0.4, "top5": 0.8, "bpp": 0.3, "images": 10},
              "high": {"top1": 0.5, "top5": 0.9, "bpp": 1.2, "images": 10},
              "ref": {"top1": 0.6, "top5": 0.95, "bpp": None, "images": 10}}
  table = paper_tables.table_i(measured, {"low": 0.28, "high": 1.1},
                               [("low", "pre"), ("high", "pre"), ("ref", "reference")], paper)
  assert table.rows[0]["paper"]["bpp"] == "0.25" and table.rows[1]["paper"]["bpp"] == "0.5"
  assert "vgg16_10crop 0.719 / 0.907" in table.rows[2]["paper"]
  assert table.cells[2][2:4] == ["", ""]  # the reference codes no file: no bpp
  assert table.cells[0][4] == "0.400 (0.168-0.687)"  # Wilson's interval on 10 images


def test_join_points_makes_one_curve_of_one_model_per_rate():
  joined = rd.join_points("deepsic-pre", "d", [_curve("c16", [0.3], [0.9]),
                                               _curve("c32", [0.6], [0.95])])
  assert joined.results["setting"] == ["c16", "c32"]
  assert joined.points("ms-ssim-rgb")[1].tolist() == [0.9, 0.95]


def test_script_refuses_missing_models_and_folders(tmp_path, kodak_dir):
  def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          check=False, cwd=tmp_path)

  imagenet = tmp_path / "imagenet"
  (imagenet / "val").mkdir(parents=True)
  result = run("--kodak-dir", str(kodak_dir), "--imagenet-dir", str(imagenet), "--models",
               str(tmp_path / "none"), "--out", str(tmp_path / "out"))
  assert result.returncode == 1
  assert result.stderr.startswith(f"error: {tmp_path / 'none'} lacks "
                                  f"{', '.join(model.name for model in zoo.MODELS[:2])}, ")
  assert result.stderr.strip().endswith("add --train to train them")
  result = run("--kodak-dir", str(tmp_path / "nope"), "--imagenet-dir", str(imagenet))
  assert result.stderr.strip() == f"error: --kodak-dir folder not found: {tmp_path / 'nope'}"
  result = run("--kodak-dir", str(kodak_dir), "--imagenet-dir", str(tmp_path))
  assert result.stderr.strip() == f"error: {tmp_path} has no val/ folder (ImageNet layout)"
  folders = ("--kodak-dir", str(kodak_dir), "--imagenet-dir", str(imagenet))
  result = run(*folders, "--train", "--only", "r2i-full,nonsense")
  assert result.stderr.startswith(f"error: unknown model nonsense; known: {zoo.MODELS[0].name}, ")
  result = run(*folders, "--only", "r2i-full")
  assert result.stderr.strip() == "error: --only goes with --train"


def test_classic_curves_are_reused_only_for_the_same_library_and_images(tmp_path, monkeypatch):
  # Imported here, as the script would be run: it sets its environment (BLAS threads).
  from compression_zoo import reproduce_tables  # pylint: disable=import-outside-toplevel
  images = [("a", smooth_image(24, 40, 1)), ("b", smooth_image(24, 40, 2))]
  (tmp_path / "kodak").mkdir()
  first = reproduce_tables.classic_curves(images, 1, tmp_path, remeasure=False)
  assert set(first) == set(reproduce_tables.BASELINES)
  for curve in first.values():
    assert curve.description.endswith("; the first 2 Kodak images")
    rd.write_json(curve, tmp_path / "kodak" / f"{curve.name}.json")
  measured = []
  monkeypatch.setattr("compression_zoo.evaluate.evaluate_codec",
                      lambda name, *args, **kwargs: measured.append(name) or first[name])
  again = reproduce_tables.classic_curves(images, 1, tmp_path, remeasure=False)
  assert measured == [] and again["jpeg"].results == first["jpeg"].results
  reproduce_tables.classic_curves(images[:1], 1, tmp_path, remeasure=False)  # other images
  assert measured == list(reproduce_tables.BASELINES)
  reproduce_tables.classic_curves(images, 1, tmp_path, remeasure=True)
  assert measured == 2 * list(reproduce_tables.BASELINES)
  assert first["jpeg"].provenance["Pillow"] == provenance.versions()["Pillow"]
  assert first["jpeg"].provenance["utc"]
  monkeypatch.setattr(provenance, "versions",
                      lambda: {**first["jpeg"].provenance, "Pillow": "0.0"})
  reproduce_tables.classic_curves(images, 1, tmp_path, remeasure=False)  # another Pillow
  assert measured == 3 * list(reproduce_tables.BASELINES)


def test_init_starts_a_run_from_a_model_folder_and_cpu_holds_the_full_rate(tmp_path):
  shipped_model = tiny_model("post", seed=5)
  folder = tmp_path / "saved"
  folder.mkdir()
  shipped.write_weights(shipped_model, folder / shipped.WEIGHTS_FILE)
  preset = PRESETS["cpu"]
  pre = dataclasses.replace(shipped_model.config, architecture="pre")
  started = deepsic_train.build_model(pre, preset, 1000, init=folder)
  for ours, theirs in zip(shipped.model_weights(started), shipped.model_weights(shipped_model)):
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-2)  # float16 shipped
  other = dataclasses.replace(pre, bottleneck_channels=4)
  with pytest.raises(UserError, match="belong to another model"):
    deepsic_train.build_model(other, preset, 1000, init=folder)
  schedule = deepsic_train.learning_rate_schedule(preset, 1000)
  assert float(schedule(899)) == pytest.approx(preset.learning_rate)
  assert float(schedule(999)) == pytest.approx(preset.learning_rate / 25)


def test_a_weight_beyond_float16_ships_as_float32(tmp_path):
  model = tiny_model("post", seed=2)
  variance = next(v for v in shipped.model_weights(model) if "moving_variance" in v.name)
  variance.assign(tf.fill(variance.shape, 1e6))
  shipped.write_weights(model, tmp_path / "w.npz")
  other = tiny_model("post", seed=3)
  shipped.read_weights(other, tmp_path / "w.npz")
  loaded = next(v for v in shipped.model_weights(other) if "moving_variance" in v.name)
  np.testing.assert_array_equal(loaded.numpy(), 1e6)
