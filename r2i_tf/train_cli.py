"""Trains a progressive binary coder (R2I, IR2I or the residual encoder) and exports its codec.

  python scripts/train_r2i.py --variant decoding --dataset folder:../shared/data/imagenette
  python scripts/train_r2i.py --variant ir2i --dataset folder:../shared/data/imagenette

(installed as `train-r2i`; also `python -m r2i_tf.train_cli`). IR2I (paper 2, section
2.2) adds a partial-context inpainting network: `--variant ir2i` trains both jointly
(Eq. 4). The separate baseline takes two runs: the inpainting network alone
(`--inpainting-only`, Eq. 3), then `--variant ir2i-separate --inpainter THAT_RUN`, which
freezes it and trains the coder on its residuals. The paper trains IR2I from scratch;
`--init-coder` (a trained R2I decoding model) and `--init-inpainter` (a trained
inpainting network) start it from trained parts instead, and summary.json says which
(`init`). Either flag also takes a trained IR2I model, whose part it then starts from,
and `--init-coder` takes an R2I model of the run's own variant: both continue a run
beyond its steps, with a new schedule of `--steps`.

The run folder (--output, default runs/r2i-VARIANT) holds backup/ (kill the run and
rerun the same command: it resumes), logs/ (TensorBoard), model/ (config and weights),
codec/ (the codec SavedModel), summary.json and, for a coder, stage_losses.json: each
stage's mean training loss every --stage-loss-every steps (paper 2, Figure 4;
`r2i_tf.stage_losses`), also in TensorBoard under logs/stage_losses.
"""
from __future__ import annotations

import argparse
import functools
import os
from pathlib import Path
from typing import Dict, List, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TF's C++ start-up noise off the output

from compression_eval.errors import ArgumentParser, UserError, run_cli  # pylint: disable=wrong-import-position
from compression_eval.fileio import ensure_dir  # pylint: disable=wrong-import-position
from compression_eval import training_cli  # pylint: disable=wrong-import-position
from compression_eval.training_cli import add_common_flags, check_positive, with_flags  # pylint: disable=wrong-import-position
from r2i_tf import stage_losses  # pylint: disable=wrong-import-position
from r2i_tf.presets import PRESETS  # pylint: disable=wrong-import-position

VARIANTS = ("residual", "prediction", "full", "decoding", "ir2i", "ir2i-separate")
WIDTH_COUNTS = {"encoder_filters": 4, "decoder_filters": 5}  # R2IConfig's layers


def _widths(text: str) -> Tuple[int, ...]:
  """A comma list of positive widths, e.g. 64,128,128,256."""
  try:
    widths = training_cli.comma_integers(text)
  except ValueError:
    widths = ()
  if not widths or min(widths) < 1:
    raise argparse.ArgumentTypeError(f"expected positive integers separated by commas, got {text!r}")
  return widths


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
  parser.add_argument("--init-coder", help="start the coder from a trained one of the same "
                      "variant (an R2I decoding model or an IR2I model for ir2i and "
                      "ir2i-separate): a run or a model folder, e.g. saved_models/r2i-decoding; "
                      "it continues a run beyond its steps")
  parser.add_argument("--init-inpainter", help="ir2i (and --inpainting-only): start the "
                      "inpainting network from one trained with --inpainting-only, or an IR2I "
                      "model's (a run or a model folder)")
  parser.add_argument("--preset", choices=tuple(PRESETS), default="cpu",
                      help="widths and optimisation (r2i_tf.presets): paper (the paper's 60K "
                      "steps, 110K for IR2I) or cpu (narrow; about an hour on 2 cores, the "
                      "rate dropped in the last tenth)")
  for flag, count in WIDTH_COUNTS.items():
    parser.add_argument(f"--{flag.replace('_', '-')}", type=_widths, metavar="W,W,...",
                        help=f"the coder's {count} {flag.split('_')[0]} widths instead of the "
                        "preset's (e.g. twice them, for docs/scaling.md); config.json carries "
                        "them to the codec")
  parser.add_argument("--dataset", required=True,
                      help="folder:PATH (ImageNet layout, train/ and val/), imagenet2012 (with "
                      "--manual-dir) or imagenette (downloads)")
  parser.add_argument("--output", help="run folder (default runs/r2i-VARIANT, or "
                      "runs/inpainter-NETWORK with --inpainting-only)")
  parser.add_argument("--shards", type=int,
                      help="run each step as this many shards of the batch, side by side on "
                      "the CPU's cores (default: as many as the cores, on a CPU, with 8 "
                      "crops or more each; 1 on a GPU)")
  parser.add_argument("--stage-loss-every", type=int, default=stage_losses.EVERY,
                      help="steps between two entries of stage_losses.json, each stage's mean "
                      f"training loss over those steps (default {stage_losses.EVERY})")
  add_common_flags(parser, "the initial weights, the binariser and the crops (32x32 "
                   "patches; 64x64 crops for inpainting)")
  return parser.parse_args(argv)


def _checked_output(args) -> Path:
  """The run folder, once the flags that need no TensorFlow are checked."""
  check_positive(args, ("steps", "batch_size", "learning_rate", "backup_every",
                       "stage_loss_every"))
  inpainting = args.variant.startswith("ir2i")
  if args.inpainting_only and not inpainting:
    raise UserError("--inpainting-only trains the inpainting network of --variant ir2i or "
                    "ir2i-separate")
  if (args.variant == "ir2i-separate" and not args.inpainting_only) != bool(args.inpainter):
    raise UserError("--inpainter RUN goes with --variant ir2i-separate (and only with it): "
                    "train that run first with --inpainting-only")
  for flag, variants, alone in (("init_coder", VARIANTS, False),
                                ("init_inpainter", ("ir2i",), True)):
    path = getattr(args, flag)
    if path and (args.variant not in variants or (args.inpainting_only and not alone)):
      raise UserError(f"--{flag.replace('_', '-')} starts a run from a trained part: use it "
                      f"with --variant {' or '.join(variants)}"
                      + ("" if alone else ", without --inpainting-only"))
    if path and not Path(path).is_dir():
      raise UserError(f"--{flag.replace('_', '-')}: model folder not found: {path}")
  for flag, count in WIDTH_COUNTS.items():
    widths = getattr(args, flag)
    if widths and (args.inpainting_only or len(widths) != count):
      raise UserError(f"--{flag.replace('_', '-')} takes the coder's {count} widths"
                      + (", not the inpainting network's" if args.inpainting_only
                         else f", got {len(widths)}"))
  if args.network != "multiscale" and not args.inpainting_only:
    raise UserError("--network vanilla is the inpainting comparison's baseline: use it "
                    "with --inpainting-only")
  default = (f"runs/inpainter-{args.network}" if args.inpainting_only
             else f"runs/r2i-{args.variant}")
  return ensure_dir(args.output or default)


def _validation(stages: int, size: int, metrics: Dict[str, float]) -> List[str]:
  lines = [f"Validation (center {size}x{size} crops): inpainting PSNR "
           f"{metrics['psnr_inpainting']:.2f} dB"] if "psnr_inpainting" in metrics else []
  return lines + ([f"Validation (center {size}x{size} crops): PSNR stage 1 "
                   f"{metrics['psnr_first']:.2f} dB, stage {stages} {metrics['psnr_last']:.2f} "
                   "dB"] if "psnr_first" in metrics else [])


def _run(args, output: Path):
  """The run the flags describe (loads TensorFlow, the parts it starts from and the data)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from compression_eval import cpu_shards, training  # pylint: disable=import-outside-toplevel
  from compression_eval.training_run import Run  # pylint: disable=import-outside-toplevel
  from r2i_tf import train  # pylint: disable=import-outside-toplevel
  from r2i_tf.family import FAMILY  # pylint: disable=import-outside-toplevel
  config = train.config_for(args.variant, args.preset, args.network, args.inpainting_only,
                            args.encoder_filters, args.decoder_filters)
  preset = with_flags(train.preset_for(config, args.preset), args,
                      ("steps", "batch_size", "learning_rate"))
  # Before TensorFlow runs anything, while its thread pools can still be set.
  shards = cpu_shards.shard_count(preset.batch_size, args.shards,
                                  gpu=bool(tf.config.list_physical_devices("GPU")))
  cpu_shards.use_threads_for(shards)
  tf.keras.utils.set_random_seed(args.seed)  # the initial weights and the binariser's draws
  starts = {"coder": args.init_coder, "inpainter": args.inpainter or args.init_inpainter}
  parts = train.Parts(**{part: train.load_part(path, train.part_config(config, part))
                         for part, path in starts.items() if path})
  strategy = training.make_strategy(args.strategy)
  size = train.crop_size(config)
  data = train.prepare_data(args.dataset, preset.batch_size * strategy.num_replicas_in_sync,
                            patch_size=size, manual_dir=args.manual_dir, data_dir=args.data_dir,
                            seed=args.seed)
  return Run(
      family=FAMILY, output=output, dataset=args.dataset, config=config, preset=preset,
      strategy=strategy, has_codec=not args.inpainting_only,
      what=(f"the {args.network} inpainting network" if args.inpainting_only
            else f"R2I ({args.variant})"),
      inputs=f"{preset.batch_size} {size}x{size} crops"
             + (f" in {shards} shards side by side" if shards > 1 else ""),
      fit=lambda verbose, backup_every: train.fit(config, preset, data, output, strategy,
                                                  verbose, parts, backup_every, shards,
                                                  args.stage_loss_every),
      summary={"init": {part: starts[part] or "scratch"
                        for part in train.PARTS[train.kind(config)]}, "shards": shards},
      report=lambda metrics: _validation(getattr(config, "stages", 0), size, metrics))


def main(argv: List[str] | None = None) -> int:
  return training_cli.main(argv, parse_args, _checked_output, _run)


entry_point = functools.partial(run_cli, main)  # the installed console script


if __name__ == "__main__":
  entry_point()
