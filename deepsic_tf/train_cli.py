"""Trains a DeepSIC model and exports its codec.

  python scripts/train_deepsic.py     # default: ../shared/data/imagenette, quick preset
  python scripts/train_deepsic.py --dataset folder:../shared/data/imagenette --architecture pre

The run folder (--output) holds backup/ (kill the run and rerun the same command: it
resumes), logs/ (TensorBoard), model/ (config and weights), codec/ (the codec SavedModel
with compress, decompress and classify signatures) and summary.json.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TF's C++ start-up noise off the output

from compression_eval.errors import ArgumentParser, UserError, run_cli  # pylint: disable=wrong-import-position
from compression_eval.fileio import ensure_dir  # pylint: disable=wrong-import-position


def _subsampling(text: str) -> tuple:
  try:
    return tuple(int(part) for part in text.split(","))
  except ValueError:
    raise UserError(f"--subsampling takes four factors like 4,2,2,1, not {text!r}") from None


def parse_args(argv: List[str]):
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--architecture", choices=("pre", "post", "reference"), default="post",
                      help="classifier in the encoder (pre) or the decoder (post); reference: "
                      "no codec, f and h on uncompressed images (Table I's reference row)")
  parser.add_argument("--preset", choices=("quick", "cpu", "paper"), default="quick",
                      help="widths and optimisation: quick (about 10 minutes on 2 cores), cpu "
                      "(an hour or more: the shipped models) or paper (128 filters, 128x128, "
                      "batch 32)")
  parser.add_argument("--init", help="start from the weights of a model folder, e.g. "
                      "saved_models/deepsic-post-c64 (same widths and code size)")
  parser.add_argument("--dataset", default=None,
                      help="folder:PATH (ImageNet layout), imagenet2012 (with --manual-dir), "
                      "imagenette (downloads) or synthetic; default: "
                      "../shared/data/imagenette beside the checkout, else synthetic")
  parser.add_argument("--manual-dir", help="imagenet2012: folder with the ILSVRC-2012 tars")
  parser.add_argument("--data-dir", help="tensorflow-datasets data dir")
  parser.add_argument("--lambda", dest="lambda_distortion", type=float, default=None,
                      help="lambda1, weight of MSE (0-255 scale) against bpp; higher = more bits")
  parser.add_argument("--bottleneck-channels", type=int, default=None,
                      help="channels of the B-bit code; with the subsampling it sets the rate "
                      "(at most about B * channels / stride^2 bpp)")
  parser.add_argument("--filters", type=int, default=None,
                      help="channels of f's and g's stages (preset default; paper: 128)")
  parser.add_argument("--lambda-semantic", type=float, default=None,
                      help="lambda2, weight of the cross-entropy against bpp")
  parser.add_argument("--subsampling", type=str, default=None,
                      help="per-stage factors, stage 1: 4|2, stage 2: 2|1, stages 3-4: 2|1")
  parser.add_argument("--steps", type=int, help="training steps (preset default)")
  parser.add_argument("--batch-size", type=int, help="per-replica batch (preset default)")
  parser.add_argument("--patch-size", type=int, help="square training patches (preset default)")
  parser.add_argument("--learning-rate", type=float, help="initial Adam rate (preset default)")
  parser.add_argument("--strategy", choices=("default", "mirrored", "multiworker"),
                      default="default", help="tf.distribute strategy; multiworker reads TF_CONFIG")
  parser.add_argument("--output", default="runs/deepsic", help="run folder")
  parser.add_argument("--kodak-dir", help="after training, report Kodak bpp / PSNR / MS-SSIM")
  parser.add_argument("--backup-every", type=int,
                      help="steps between backups (default 100): a killed run, rerun with the "
                      "same command, resumes from the last one")
  parser.add_argument("--seed", type=int, default=0)
  return parser.parse_args(argv)


def main(argv: List[str] | None = None) -> int:
  args = parse_args(sys.argv[1:] if argv is None else argv)
  sys.stdout.reconfigure(line_buffering=True)  # progress shows up in logs as it happens
  for name in ("steps", "batch_size", "patch_size", "bottleneck_channels", "filters",
               "learning_rate", "backup_every"):
    value = getattr(args, name)
    if value is not None and value <= 0:
      raise UserError(f"--{name.replace('_', '-')} must be positive")
  subsampling = _subsampling(args.subsampling) if args.subsampling else None
  output = ensure_dir(args.output)
  if args.init and not Path(args.init).is_dir():
    raise UserError(f"--init: model folder not found: {args.init}")
  if args.kodak_dir and not Path(args.kodak_dir).is_dir():
    raise UserError(f"Kodak folder not found: {args.kodak_dir}")
  if args.kodak_dir and args.architecture == "reference":
    raise UserError("--kodak-dir measures a codec; the reference classifier has none")

  # TensorFlow loads here, after the cheap checks above.
  import dataclasses  # pylint: disable=import-outside-toplevel
  from compression_eval import training  # pylint: disable=import-outside-toplevel
  from deepsic_tf import train  # pylint: disable=import-outside-toplevel
  from deepsic_tf.codec import export  # pylint: disable=import-outside-toplevel

  dataset = args.dataset or train.default_dataset()
  if args.dataset is None and dataset == train.SYNTHETIC:
    print("No --dataset given and no ../shared/data/imagenette beside the checkout: training "
          "on the built-in synthetic set (10 procedural classes), which teaches a codec little "
          "about photos. For real images use --dataset folder:PATH (ImageNet layout) or "
          "--dataset imagenet2012 --manual-dir DIR.", flush=True)
  elif args.dataset is None:
    print(f"No --dataset given: training on {dataset} (Imagenette beside the checkout).",
          flush=True)
  preset = train.TRAIN_PRESETS[args.preset]
  preset = dataclasses.replace(preset, **{
      name: getattr(args, name) for name in ("steps", "batch_size", "patch_size", "learning_rate")
      if getattr(args, name) is not None})
  strategy = training.make_strategy(args.strategy)
  data = train.prepare_data(dataset, preset, preset.batch_size * strategy.num_replicas_in_sync,
                            manual_dir=args.manual_dir, data_dir=args.data_dir, seed=args.seed)
  try:
    config = train.config_for(args.architecture, args.preset, data.info,
                              lambda_distortion=args.lambda_distortion,
                              lambda_semantic=args.lambda_semantic, subsampling=subsampling,
                              bottleneck_channels=args.bottleneck_channels,
                              filters=args.filters)
  except ValueError as error:
    raise UserError(str(error)) from None
  training.check_resumable(output, config.to_json())
  what = ("the reference classifier (uncompressed)" if config.architecture == "reference"
          else f"DeepSIC {config.architecture}-semantic")
  print(f"Training {what} on {dataset} ({data.info.num_classes} "
        f"classes) for {preset.steps} steps of {preset.batch_size} x {preset.patch_size}^2 "
        f"patches{training.replicas_note(strategy)} into {output}", flush=True)
  model, val_metrics = train.fit(config, preset, data, output, strategy,
                                 verbose=1 if sys.stdout.isatty() else 2,
                                 backup_every=args.backup_every or training.BACKUP_EVERY,
                                 init=Path(args.init) if args.init else None)
  if not training.save_from_every_worker(model, config.to_json(), output / "model", strategy):
    return 0
  summary = {"dataset": dataset, "preset": args.preset, "steps": preset.steps,
             "batch_size": preset.batch_size, "seed": args.seed, "init": args.init,
             "steps_per_epoch": min(preset.steps_per_epoch, preset.steps),
             "curve_images": train.CURVE_BATCHES * preset.batch_size,
             "steps_trained": int(model.optimizer.iterations.numpy()),
             "config": dataclasses.asdict(config), "validation": val_metrics}
  print(f"Validation ({dataset}, center {preset.patch_size}^2 patches): "
        f"top-1 {val_metrics['top1']:.3f}, top-5 {val_metrics['top5']:.3f}"
        + ("" if config.architecture == "reference" else
           f", bpp {val_metrics['bpp']:.3f}, PSNR {val_metrics['psnr']:.2f} dB"))
  if config.architecture == "reference":
    training.write_summary(output / "summary.json", summary)
    print(f"Reference classifier (no codec): {output / 'model'}")
    return 0
  # Exported from the saved weights, rebuilt outside the distribution strategy: reading
  # distributed variables one by one would otherwise wait on the other workers.
  export(train.load_model(output / "model"), str(output / "codec"))
  if args.kodak_dir:
    summary["kodak"] = train.kodak_metrics(output / "codec", args.kodak_dir, args.data_dir)
    kodak = summary["kodak"]
    print(f"Kodak (24 images, real files): bpp {kodak['bpp']:.3f}, PSNR {kodak['psnr-rgb']:.2f} "
          f"dB, MS-SSIM {kodak['ms-ssim-rgb']:.4f}")
  training.write_summary(output / "summary.json", summary)
  print(f"Codec SavedModel: {output / 'codec'} "
        f"(python -m deepsic_tf compress --model {output / 'codec'} IMAGE OUT.dsic)")
  return 0


if __name__ == "__main__":
  run_cli(main)
