"""DeepSIC's design choices measured at equal wall time on the same batches.

  python benchmarks/deepsic_ablation.py --group design --seconds 120 --seeds 0,1
  python benchmarks/deepsic_ablation.py --group lambda --base gdn-x2
  python benchmarks/deepsic_ablation.py --group pre-rate --seconds 150

Every run trains a fresh model for the same wall time (counted from the first step, so
graph tracing is not charged to it) on the same sequence of Imagenette batches (one
pipeline seed for all), at a constant learning rate. It then reports validation PSNR,
bpp and top-1 on the center patches of all validation images, and Kodak PSNR and bpp
(the entropy model's estimate of the rounded code, within 0.2 % of the real files:
docs/benchmarks) on all 24 images. Results accumulate in OUTPUT.json across groups;
OUTPUT.md is the table rendered from it.

Groups:
  design    the transforms: the first design, ReLU after batch norm, GDN, x2 stages, width
  lambda    lambda1 at a fixed code size (does the rate term move the rate?)
  semantic  lambda2 = 0 against the default (what the semantic term costs in PSNR)
  pre-rate  the pre-semantic model at rate point 1, from deepsic-post-q1's weights, with the
            rate of the noisy code against that of the rounded code (config.rate_estimate),
            the post-semantic model continued the same way as the control, and the
            pre-semantic model continued at a tenth of the learning rate
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

from common import REPO, write_json  # pylint: disable=wrong-import-order

import numpy as np  # pylint: disable=wrong-import-order
import tensorflow as tf  # pylint: disable=wrong-import-order

from compression_eval.datasets import load_kodak  # pylint: disable=wrong-import-order
from compression_eval.metrics import psnr  # pylint: disable=wrong-import-order
from compression_eval.training import assign_weights  # pylint: disable=wrong-import-order
from deepsic_tf import train  # pylint: disable=wrong-import-order
from deepsic_tf.config import DeepSICConfig  # pylint: disable=wrong-import-order
from deepsic_tf.models import DeepSIC  # pylint: disable=wrong-import-order
from deepsic_tf.presets import PRESETS  # pylint: disable=wrong-import-order

BASE = {"filters": 48, "bottleneck_channels": 64, "head_filters": 64, "head_units": 128,
        "lambda_distortion": 0.01, "lambda_semantic": 1.0}
DESIGNS = {
    "first-design": {"nonlinearity": "relu-before-norm", "subsampling": (4, 2, 2, 1)},
    "relu-after-norm": {"nonlinearity": "relu", "subsampling": (4, 2, 2, 1)},
    "gdn": {"nonlinearity": "gdn", "subsampling": (4, 2, 2, 1)},
    "gdn-x2": {"nonlinearity": "gdn", "subsampling": (2, 2, 2, 2)},
    "gdn-x2-wide": {"nonlinearity": "gdn", "subsampling": (2, 2, 2, 2), "filters": 96},
}
LAMBDAS = (0.0025, 0.01, 0.04, 0.16)
SEMANTIC = (0.0, 1.0)
# The pre-rate group continues the shipped rate-point-1 post-semantic model as a
# pre-semantic one, as the shipped pre-semantic models are trained.
PRE_RATE_INIT = REPO / "saved_models" / "deepsic-post-q1"
PRE_RATE = {"architecture": "pre", "nonlinearity": "gdn", "subsampling": (4, 2, 2, 1),
            "filters": 48, "bottleneck_channels": 128, "lambda_distortion": 0.001}


def runs_of(group: str, base: str) -> Dict[str, Dict[str, Any]]:
  """Variant name -> config overrides for one group."""
  if group == "design":
    return DESIGNS
  if group == "pre-rate":
    runs = {f"pre lambda1=0.001 {value}-rate": {**PRE_RATE, "rate_estimate": value}
            for value in ("noise", "rounded")}
    return {**runs,
            "post lambda1=0.001 noise-rate (control)": {**PRE_RATE, "architecture": "post"},
            "pre lambda1=0.001 noise-rate Adam 1e-4": {**PRE_RATE, "learning_rate": 1e-4}}
  if group == "lambda":
    return {f"{base} lambda1={value:g}": {**DESIGNS[base], "lambda_distortion": value}
            for value in LAMBDAS}
  return {f"{base} lambda2={value:g}": {**DESIGNS[base], "lambda_semantic": value}
          for value in SEMANTIC}


class WallClock(tf.keras.callbacks.Callback):
  """Stops `fit` once `seconds` have passed since the end of the first step."""

  def __init__(self, seconds: float):
    super().__init__()
    self.seconds = seconds
    self.start: float | None = None
    self.steps = 0

  def on_train_batch_end(self, batch, logs=None) -> None:
    if self.start is None:
      self.start = time.perf_counter()
      return
    self.steps += 1
    if time.perf_counter() - self.start >= self.seconds:
      self.model.stop_training = True


def kodak_figures(model, images) -> Dict[str, float]:
  """Mean PSNR (of uint8 outputs) and estimated bpp of the rounded code over Kodak."""
  psnrs, bpps = [], []
  for _, image in images:
    reconstruction, bits, _ = model(tf.constant(image[None], tf.float32) / 255.0,
                                    training=False)
    decoded = np.round(np.clip(reconstruction.numpy()[0], 0, 1) * 255).astype(np.uint8)
    psnrs.append(psnr(image, decoded))
    bpps.append(float(bits.numpy()[0]) / (image.shape[0] * image.shape[1]))
  return {"kodak_psnr": float(np.mean(psnrs)), "kodak_bpp": float(np.mean(bpps))}


def train_one(overrides: Dict[str, Any], seed: int, seconds: float, data, kodak,
              init: Path | None = None) -> Dict:
  tf.keras.backend.clear_session()
  tf.keras.utils.set_random_seed(seed)
  fields = {"architecture": "post", **BASE, **overrides}
  learning_rate = fields.pop("learning_rate", 1e-3)
  config = DeepSICConfig(num_classes=data.info.num_classes, **fields)
  model = DeepSIC(config)
  model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate))
  if init is not None:
    model(tf.zeros((1, 64, 64, 3)))  # creates the variables
    assign_weights(model, init)
  clock = WallClock(seconds)
  model.fit(data.train, epochs=10**6, steps_per_epoch=50, callbacks=[clock], verbose=0)
  val = model.evaluate(data.val, verbose=0, return_dict=True)
  return {"seed": seed, "steps": clock.steps, "params": model.count_params(),
          "lambda1": config.lambda_distortion,
          "val_psnr": float(val["psnr"]), "val_bpp": float(val["bpp"]),
          "val_top1": float(val["top1"]), **kodak_figures(model, kodak)}


def rd_cost(run: Dict[str, Any], prefix: str) -> float:
  """The objective's rate-distortion part, bpp + lambda1 * MSE (0-255 scale), at the
  measured mean PSNR and the run's lambda1: one figure that ranks variants whose rates
  differ."""
  mse = 255.0**2 / 10**(run[f"{prefix}_psnr"] / 10)
  return run[f"{prefix}_bpp"] + run.get("lambda1", BASE["lambda_distortion"]) * mse


def summarise(runs: List[Dict]) -> Dict[str, Any]:
  def spread(values):
    return statistics.mean(values), (max(values) - min(values)) / 2
  stats = {key: spread([run[key] for run in runs]) for key in
           ("steps", "val_psnr", "val_bpp", "val_top1", "kodak_psnr", "kodak_bpp")}
  for prefix in ("val", "kodak"):
    stats[f"{prefix}_cost"] = spread(
        [rd_cost(run, prefix) for run in runs])
  return stats


def _row(name: str, runs: List[Dict], with_cost: bool) -> str:
  stats = summarise(runs)
  cells = [f"{stats['steps'][0]:.0f}"]
  for key, digits in (("val_psnr", 2), ("val_bpp", 3), ("val_top1", 3), ("val_cost", 2),
                      ("kodak_psnr", 2), ("kodak_bpp", 3), ("kodak_cost", 2)):
    mean, half = stats[key]
    cells.append(f"{mean:.{digits}f} +- {half:.{digits}f}"
                 if with_cost or not key.endswith("cost") else "-")
  return f"| {name} | " + " | ".join(cells) + " |"


def render(figures: Dict[str, Any]) -> str:
  lines = ["# DeepSIC ablation: equal wall time, same batches", "",
           "Generated by `python benchmarks/deepsic_ablation.py` (2-core CPU, CPU scale: "
           "two minutes of training per run, not the paper's 8M iterations). Each cell is the "
           "mean over seeds +- half the range. Validation: center 64x64 patches of all 3,925 "
           "Imagenette validation images. Kodak: all 24 images; bpp is the entropy model's "
           "estimate of the rounded code (real files are within 0.2 %: docs/benchmarks). RD "
           "cost is bpp + lambda1 MSE (0-255 scale) at the mean PSNR, the objective's "
           "rate-distortion part: lower is better, and it ranks variants whose rates differ. "
           "Every run: 48 filters, 64 code channels, lambda1 0.01, lambda2 1, Adam 1e-3, "
           "batch 16, from scratch, unless its name or its group says otherwise (pre-rate: "
           "128 code channels, from deepsic-post-q1's weights).", ""]
  groups = figures["groups"]
  for group, entry in groups.items():
    lines += [f"## {group} ({entry['seconds']:g} s of training per run, seeds "
              f"{entry['seeds']})", "",
              "| variant | steps | val PSNR (dB) | val bpp | val top-1 | val RD cost | "
              "Kodak PSNR (dB) | Kodak bpp | Kodak RD cost |", "|---" * 9 + "|"]
    rows = dict(entry["runs"])
    if group == "semantic" and "design" in groups:
      # lambda2 = 1 is the design group's run of the same design, same seeds and batches.
      for name, runs in groups["design"]["runs"].items():
        if all(variant.startswith(name + " ") for variant in rows):
          rows[f"{name} lambda2=1 (design group)"] = runs
    lines += [_row(name, runs, group != "lambda") for name, runs in rows.items()]
    if group in ("design", "pre-rate"):
      best = min(rows, key=lambda name: summarise(rows[name])["kodak_cost"][0])
      lines += ["", f"Lowest Kodak RD cost: **{best}**."]
    lines.append("")
  return "\n".join(lines)


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--group", choices=("design", "lambda", "semantic", "pre-rate"),
                      default="design")
  parser.add_argument("--base", choices=tuple(DESIGNS), default="gdn-x2",
                      help="the design the lambda and semantic groups vary")
  parser.add_argument("--seconds", type=float, default=120.0)
  parser.add_argument("--seeds", default="0,1")
  parser.add_argument("--only", help="comma-separated variant names of the group")
  parser.add_argument("--dataset", default="folder:../shared/data/imagenette")
  parser.add_argument("--kodak-dir", default=str(REPO.parent / "shared" / "data" / "kodak"))
  parser.add_argument("--output", default=str(REPO / "docs" / "deepsic_ablation"))
  args = parser.parse_args()
  seeds = [int(seed) for seed in args.seeds.split(",")]

  preset = dataclasses.replace(PRESETS["cpu"], batch_size=16, patch_size=64)
  kodak = load_kodak(args.kodak_dir)
  path = Path(args.output + ".json")
  figures = json.loads(path.read_text()) if path.is_file() else {"groups": {}}
  variants = runs_of(args.group, args.base)
  if args.only:
    variants = {name: variants[name] for name in args.only.split(",")}
  entry = figures["groups"].setdefault(args.group, {"runs": {}})
  entry.update(seconds=args.seconds, seeds=args.seeds)
  for name, overrides in variants.items():
    entry["runs"][name] = []
    for seed in seeds:
      # A fresh pipeline with one seed for every run: a second pass over the same
      # pipeline would reshuffle, so only first passes give every variant the same batches.
      data = train.prepare_data(args.dataset, preset, preset.batch_size, seed=0)
      result = train_one(overrides, seed, args.seconds, data, kodak,
                         PRE_RATE_INIT if args.group == "pre-rate" else None)
      entry["runs"][name].append(result)
      print(name, json.dumps(result), flush=True)
      write_json(path, figures)
      Path(args.output + ".md").write_text(render(figures) + "\n")
  return 0


if __name__ == "__main__":
  sys.exit(main())
