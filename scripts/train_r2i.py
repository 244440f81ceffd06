"""Trains a progressive binary coder (R2I or the residual encoder) and exports its codec.

  python scripts/train_r2i.py --variant decoding --dataset folder:../shared/data/imagenette

The run folder (--output, default runs/r2i-VARIANT) holds backup/ (kill the run and
rerun the same command: it resumes), logs/ (TensorBoard), model/ (config and weights),
codec/ (the codec SavedModel) and summary.json.
"""
from __future__ import annotations

import os
import sys
from typing import List

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TF's C++ start-up noise off the output

from compression_eval.errors import ArgumentParser, UserError, run_cli  # pylint: disable=wrong-import-position
from compression_eval.fileio import ensure_dir  # pylint: disable=wrong-import-position

VARIANTS = ("residual", "prediction", "full", "decoding")


def parse_args(argv: List[str]):
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--variant", choices=VARIANTS, default="decoding",
                      help="residual encoder, or R2I with prediction, full or decoding connections")
  parser.add_argument("--preset", choices=("cpu", "paper"), default="cpu",
                      help="widths and optimisation: paper (60K steps) or cpu (narrow, 2000 steps)")
  parser.add_argument("--dataset", required=True,
                      help="folder:PATH (ImageNet layout, train/ and val/), imagenet2012 (with "
                      "--manual-dir) or imagenette (downloads)")
  parser.add_argument("--manual-dir", help="imagenet2012: folder with the ILSVRC-2012 tars")
  parser.add_argument("--data-dir", help="tensorflow-datasets data dir")
  parser.add_argument("--steps", type=int, help="training steps (preset default)")
  parser.add_argument("--batch-size", type=int, help="per-replica batch of 32x32 patches")
  parser.add_argument("--learning-rate", type=float, help="initial Adam rate (preset default)")
  parser.add_argument("--strategy", choices=("default", "mirrored", "multiworker"),
                      default="default", help="tf.distribute strategy; multiworker reads TF_CONFIG")
  parser.add_argument("--output", help="run folder (default runs/r2i-VARIANT)")
  parser.add_argument("--seed", type=int, default=0)
  return parser.parse_args(argv)


def main(argv: List[str] | None = None) -> int:
  args = parse_args(sys.argv[1:] if argv is None else argv)
  sys.stdout.reconfigure(line_buffering=True)  # progress shows up in logs as it happens
  for name in ("steps", "batch_size", "learning_rate"):
    value = getattr(args, name)
    if value is not None and value <= 0:
      raise UserError(f"--{name.replace('_', '-')} must be positive")
  output = ensure_dir(args.output or f"runs/r2i-{args.variant}")

  # TensorFlow loads here, after the cheap checks above.
  import dataclasses  # pylint: disable=import-outside-toplevel
  from compression_eval import training  # pylint: disable=import-outside-toplevel
  from r2i_tf import train  # pylint: disable=import-outside-toplevel

  preset = train.TRAIN_PRESETS[args.preset]
  preset = dataclasses.replace(preset, **{
      name: getattr(args, name) for name in ("steps", "batch_size", "learning_rate")
      if getattr(args, name) is not None})
  strategy = training.make_strategy(args.strategy)
  data = train.prepare_data(args.dataset, preset.batch_size * strategy.num_replicas_in_sync,
                            manual_dir=args.manual_dir, data_dir=args.data_dir, seed=args.seed)
  config = train.config_for(args.variant, args.preset)
  training.check_resumable(output, config.to_json())
  print(f"Training R2I ({config.variant}) on {args.dataset} for {preset.steps} steps of "
        f"{preset.batch_size} 32x32 patches into {output}", flush=True)
  model, val_metrics = train.fit(config, preset, data, output, strategy,
                                 verbose=1 if sys.stdout.isatty() else 2)
  if not training.save_from_every_worker(model, config.to_json(), output / "model", strategy):
    return 0
  summary = {"dataset": args.dataset, "preset": args.preset, "steps": preset.steps,
             "batch_size": preset.batch_size, "config": dataclasses.asdict(config),
             "validation": val_metrics}
  training.write_summary(output / "summary.json", summary)
  print(f"Validation (center 32x32 patches): PSNR stage 1 {val_metrics['psnr_first']:.2f} dB, "
        f"stage {config.stages} {val_metrics['psnr_last']:.2f} dB")
  # Exported from the saved weights, rebuilt outside the distribution strategy.
  from r2i_tf.codec import export  # pylint: disable=import-outside-toplevel
  export(train.load_model(output / "model"), str(output / "codec"))
  print(f"Codec SavedModel: {output / 'codec'} "
        f"(python -m r2i_tf compress --model {output / 'codec'} IMAGE OUT.r2i)")
  return 0


if __name__ == "__main__":
  run_cli(main)
