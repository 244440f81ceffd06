"""Trains a progressive binary coder (R2I, IR2I or the residual encoder) and exports its codec.

  python scripts/train_r2i.py --variant decoding --dataset folder:../shared/data/imagenette
  python scripts/train_r2i.py --variant ir2i --dataset folder:../shared/data/imagenette

IR2I (paper 2, section 2.2) adds a partial-context inpainting network: `--variant ir2i`
trains both jointly (Eq. 4). The separate baseline takes two runs: the inpainting network
alone (`--inpainting-only`, Eq. 3), then `--variant ir2i-separate --inpainter THAT_RUN`,
which freezes it and trains the coder on its residuals. The paper trains IR2I from
scratch; `--init-coder` (a trained R2I decoding model) and `--init-inpainter` (a trained
inpainting network) start it from trained parts instead, and summary.json says which
(`init`).

The run folder (--output, default runs/r2i-VARIANT) holds backup/ (kill the run and
rerun the same command: it resumes), logs/ (TensorBoard), model/ (config and weights),
codec/ (the codec SavedModel) and summary.json.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TF's C++ start-up noise off the output

from compression_eval.errors import ArgumentParser, UserError, run_cli  # pylint: disable=wrong-import-position
from compression_eval.fileio import ensure_dir  # pylint: disable=wrong-import-position

VARIANTS = ("residual", "prediction", "full", "decoding", "ir2i", "ir2i-separate")


def parse_args(argv: List[str]):
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--variant", choices=VARIANTS, default="decoding",
                      help="residual encoder; R2I with prediction, full or decoding connections; "
                      "IR2I (decoding connections plus inpainting), joint or separate")
  parser.add_argument("--inpainting-only", action="store_true",
                      help="train only the inpainting network (Eq. 3), for ir2i-separate and "
                      "the inpainting comparison")
  parser.add_argument("--network", choices=("multiscale", "vanilla"), default="multiscale",
                      help="inpainting network: the paper's multi-scale one or the vanilla baseline")
  parser.add_argument("--inpainter", help="ir2i-separate: the run (or saved_models) folder of "
                      "an inpainting network trained with --inpainting-only")
  parser.add_argument("--init-coder", help="ir2i, ir2i-separate: start the coder from a trained "
                      "R2I decoding model (a run or a model folder, e.g. saved_models/r2i-decoding)")
  parser.add_argument("--init-inpainter", help="ir2i: start the inpainting network from one "
                      "trained with --inpainting-only (a run or a model folder)")
  parser.add_argument("--preset", choices=("cpu", "paper"), default="cpu",
                      help="widths and optimisation: paper (the paper's 60K steps, 110K for "
                      "IR2I) or cpu (narrow; about an hour on 2 cores, the rate dropped in "
                      "the last tenth)")
  parser.add_argument("--dataset", required=True,
                      help="folder:PATH (ImageNet layout, train/ and val/), imagenet2012 (with "
                      "--manual-dir) or imagenette (downloads)")
  parser.add_argument("--manual-dir", help="imagenet2012: folder with the ILSVRC-2012 tars")
  parser.add_argument("--data-dir", help="tensorflow-datasets data dir")
  parser.add_argument("--steps", type=int, help="training steps (preset default)")
  parser.add_argument("--batch-size", type=int,
                      help="per-replica batch of 32x32 patches (64x64 crops for inpainting)")
  parser.add_argument("--learning-rate", type=float, help="initial Adam rate (preset default)")
  parser.add_argument("--strategy", choices=("default", "mirrored", "multiworker"),
                      default="default", help="tf.distribute strategy; multiworker reads TF_CONFIG")
  parser.add_argument("--output", help="run folder (default runs/r2i-VARIANT, or "
                      "runs/inpainter-NETWORK with --inpainting-only)")
  parser.add_argument("--backup-every", type=int,
                      help="steps between backups (default 100): a killed run, rerun with the "
                      "same command, resumes from the last one")
  parser.add_argument("--seed", type=int, default=0,
                      help="seeds the initial weights, the binariser and the crops")
  return parser.parse_args(argv)


def main(argv: List[str] | None = None) -> int:
  args = parse_args(sys.argv[1:] if argv is None else argv)
  sys.stdout.reconfigure(line_buffering=True)  # progress shows up in logs as it happens
  for name in ("steps", "batch_size", "learning_rate", "backup_every"):
    value = getattr(args, name)
    if value is not None and value <= 0:
      raise UserError(f"--{name.replace('_', '-')} must be positive")
  inpainting = args.variant.startswith("ir2i")
  if args.inpainting_only and not inpainting:
    raise UserError("--inpainting-only trains the inpainting network of --variant ir2i or "
                    "ir2i-separate")
  if (args.variant == "ir2i-separate" and not args.inpainting_only) != bool(args.inpainter):
    raise UserError("--inpainter RUN goes with --variant ir2i-separate (and only with it): "
                    "train that run first with --inpainting-only")
  for flag, variants in (("init_coder", ("ir2i", "ir2i-separate")), ("init_inpainter", ("ir2i",))):
    path = getattr(args, flag)
    if path and (args.variant not in variants or args.inpainting_only):
      raise UserError(f"--{flag.replace('_', '-')} starts an IR2I from a trained part: use it "
                      f"with --variant {' or '.join(variants)}")
    if path and not Path(path).is_dir():
      raise UserError(f"--{flag.replace('_', '-')}: model folder not found: {path}")
  if args.network != "multiscale" and not args.inpainting_only:
    raise UserError("--network vanilla is the inpainting comparison's baseline: use it "
                    "with --inpainting-only")
  default = (f"runs/inpainter-{args.network}" if args.inpainting_only
             else f"runs/r2i-{args.variant}")
  output = ensure_dir(args.output or default)

  # TensorFlow loads here, after the cheap checks above.
  import dataclasses  # pylint: disable=import-outside-toplevel
  from compression_eval import training  # pylint: disable=import-outside-toplevel
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from r2i_tf import train  # pylint: disable=import-outside-toplevel

  tf.keras.utils.set_random_seed(args.seed)  # the initial weights and the binariser's draws

  config = train.config_for(args.variant, args.preset, args.network, args.inpainting_only)
  starts = {"coder": args.init_coder, "inpainter": args.inpainter or args.init_inpainter}
  parts = train.Parts(**{part: train.load_part(path, getattr(config, part))
                         for part, path in starts.items() if path})
  preset = train.preset_for(config, args.preset)
  preset = dataclasses.replace(preset, **{
      name: getattr(args, name) for name in ("steps", "batch_size", "learning_rate")
      if getattr(args, name) is not None})
  strategy = training.make_strategy(args.strategy)
  size = train.crop_size(config)
  data = train.prepare_data(args.dataset, preset.batch_size * strategy.num_replicas_in_sync,
                            patch_size=size, manual_dir=args.manual_dir, data_dir=args.data_dir,
                            seed=args.seed)
  training.check_resumable(output, config.to_json())
  what = (f"the {args.network} inpainting network" if args.inpainting_only
          else f"R2I ({args.variant})")
  print(f"Training {what} on {args.dataset} for {preset.steps} steps of "
        f"{preset.batch_size} {size}x{size} crops{training.replicas_note(strategy)} into {output}",
        flush=True)
  model, val_metrics = train.fit(config, preset, data, output, strategy,
                                 verbose=1 if sys.stdout.isatty() else 2, parts=parts,
                                 backup_every=args.backup_every or training.BACKUP_EVERY)
  if not training.save_from_every_worker(model, config.to_json(), output / "model", strategy):
    return 0
  summary = {"dataset": args.dataset, "preset": args.preset, "steps": preset.steps,
             "steps_trained": int(model.optimizer.iterations.numpy()),
             "batch_size": preset.batch_size, "seed": args.seed,
             "init": {part: starts[part] or "scratch" for part in train.PARTS[train.kind(config)]},
             "config": dataclasses.asdict(config),
             "validation": val_metrics}
  training.write_summary(output / "summary.json", summary)
  if "psnr_inpainting" in val_metrics:
    print(f"Validation (center {size}x{size} crops): inpainting PSNR "
          f"{val_metrics['psnr_inpainting']:.2f} dB")
  if args.inpainting_only:
    return 0
  print(f"Validation (center {size}x{size} crops): PSNR stage 1 "
        f"{val_metrics['psnr_first']:.2f} dB, "
        f"stage {config.stages} {val_metrics['psnr_last']:.2f} dB")
  # Exported from the saved weights, rebuilt outside the distribution strategy.
  from r2i_tf.codec import export  # pylint: disable=import-outside-toplevel
  export(train.load_model(output / "model"), str(output / "codec"))
  print(f"Codec SavedModel: {output / 'codec'} "
        f"(python -m r2i_tf compress --model {output / 'codec'} IMAGE OUT.r2i)")
  return 0


if __name__ == "__main__":
  run_cli(main)
