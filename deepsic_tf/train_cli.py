"""Trains a DeepSIC model and exports its codec.

  python scripts/train_deepsic.py     # default: ../shared/data/imagenette, quick preset
  python scripts/train_deepsic.py --dataset folder:../shared/data/imagenette --architecture pre

(installed as `train-deepsic`; also `python -m deepsic_tf.train_cli`). The run folder
(--output) holds backup/ (kill the run and rerun the same command: it resumes), logs/
(TensorBoard), model/ (config and weights), codec/ (the codec SavedModel with compress,
decompress and classify signatures) and summary.json.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Dict, List

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TF's C++ start-up noise off the output

from compression_eval.errors import ArgumentParser, UserError, run_cli  # pylint: disable=wrong-import-position
from compression_eval.fileio import ensure_dir  # pylint: disable=wrong-import-position
from compression_eval import training_cli  # pylint: disable=wrong-import-position
from compression_eval.training_cli import add_common_flags, check_positive, with_flags  # pylint: disable=wrong-import-position
from deepsic_tf.config import ENTROPY_MODELS  # pylint: disable=wrong-import-position
from deepsic_tf.presets import PRESETS  # pylint: disable=wrong-import-position


def _subsampling(text: str) -> tuple:
  try:
    return training_cli.comma_integers(text)
  except ValueError:
    raise UserError(f"--subsampling takes four factors like 4,2,2,1, not {text!r}") from None


def parse_args(argv: List[str]):
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--architecture", choices=("pre", "post", "reference"), default="post",
                      help="classifier in the encoder (pre) or the decoder (post); reference: "
                      "no codec, f and h on uncompressed images (Table I's reference row)")
  parser.add_argument("--preset", choices=tuple(PRESETS), default="quick",
                      help="widths and optimisation (deepsic_tf.presets): quick (about 10 "
                      "minutes on 2 cores), cpu (an hour or more: the shipped models) or "
                      "paper (128 filters, 128x128, batch 32)")
  parser.add_argument("--init", help="start from the weights of a model folder, e.g. "
                      "saved_models/deepsic-post-q2 (same widths and code size)")
  parser.add_argument("--dataset", default=None,
                      help="folder:PATH (ImageNet layout), imagenet2012 (with --manual-dir), "
                      "imagenette (downloads) or synthetic; default: "
                      "../shared/data/imagenette beside the checkout, else synthetic")
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
  parser.add_argument("--entropy-model", choices=ENTROPY_MODELS, default=None,
                      help="how the code is entropy-coded: factorized (one distribution per "
                      "channel; the shipped models), hyperprior (a side code sets each "
                      "element's scale) or mean-scale (its scale and mean)")
  only = parser.add_mutually_exclusive_group()
  only.add_argument("--entropy-model-only", action="store_true",
                    help="train only the entropy model of the --init model (f, g and h "
                    "frozen), e.g. a hyperprior on whole-image crops (--patch-size 224)")
  only.add_argument("--head-only", action="store_true",
                    help="train only the semantic head h of the --init model (f, g and the "
                    "entropy model frozen: its files keep their bits and pixels), e.g. at "
                    "Table I's 224x224; a wider --head-filters/--head-units widens its head with the "
                    "same logits at the start, a narrower one starts a fresh head")
  parser.add_argument("--head-filters", type=int, default=None,
                      help="channels of h's convolutions (preset default; paper: 128)")
  parser.add_argument("--head-units", type=int, default=None,
                      help="width of h's first fully connected layer (preset default; paper: 256)")
  parser.add_argument("--patch-size", type=int, help="square training patches (preset default)")
  parser.add_argument("--output", default="runs/deepsic", help="run folder")
  parser.add_argument("--kodak-dir", help="after training, report Kodak bpp / PSNR / MS-SSIM")
  add_common_flags(parser, "the data order and the crops")
  return parser.parse_args(argv)


def _checked_output(args) -> Path:
  """The run folder, once the flags that need no TensorFlow are checked."""
  check_positive(args, ("steps", "batch_size", "patch_size", "bottleneck_channels", "filters",
                        "head_filters", "head_units", "learning_rate", "backup_every"))
  args.subsampling = _subsampling(args.subsampling) if args.subsampling else None
  output = ensure_dir(args.output)
  if _trained(args) != "all" and not args.init:
    raise UserError(f"--{_trained(args)}-only needs --init: the model whose other parts it keeps")
  if args.init and not Path(args.init).is_dir():
    raise UserError(f"--init: model folder not found: {args.init}")
  if args.kodak_dir and not Path(args.kodak_dir).is_dir():
    raise UserError(f"Kodak folder not found: {args.kodak_dir}")
  if args.kodak_dir and args.architecture == "reference":
    raise UserError("--kodak-dir measures a codec; the reference classifier has none")
  return output


def _trained(args) -> str:
  """What the run trains (`deepsic_tf.train.TRAINED_PARTS`)."""
  return ("entropy-model" if args.entropy_model_only else "head" if args.head_only else "all")


def _dataset(args) -> str:
  """--dataset, or the default (said aloud, since the synthetic one teaches little)."""
  from deepsic_tf import train  # pylint: disable=import-outside-toplevel
  dataset = args.dataset or train.default_dataset()
  if args.dataset is None and dataset == train.SYNTHETIC:
    print("No --dataset given and no ../shared/data/imagenette beside the checkout: training "
          "on the built-in synthetic set (10 procedural classes), which teaches a codec little "
          "about photos. For real images use --dataset folder:PATH (ImageNet layout) or "
          "--dataset imagenet2012 --manual-dir DIR.", flush=True)
  elif args.dataset is None:
    print(f"No --dataset given: training on {dataset} (Imagenette beside the checkout).",
          flush=True)
  return dataset


def _validation(reference: bool, patch_size: int, dataset: str, metrics: Dict[str, float]
                ) -> List[str]:
  line = (f"Validation ({dataset}, center {patch_size}^2 patches): top-1 {metrics['top1']:.3f}, "
          f"top-5 {metrics['top5']:.3f}")
  return [line if reference else
          f"{line}, bpp {metrics['bpp']:.3f}, PSNR {metrics['psnr']:.2f} dB"]


def _kodak(args):
  """Kodak's figures of the exported codec, when --kodak-dir asks for them."""
  def measure(codec: Path) -> Dict[str, object]:
    from deepsic_tf import train  # pylint: disable=import-outside-toplevel
    kodak = train.kodak_metrics(codec, args.kodak_dir, args.data_dir)
    print(f"Kodak (24 images, real files): bpp {kodak['bpp']:.3f}, PSNR {kodak['psnr-rgb']:.2f} "
          f"dB, MS-SSIM {kodak['ms-ssim-rgb']:.4f}")
    return {"kodak": kodak}
  return measure if args.kodak_dir else None


def _run(args, output: Path, dataset: str):
  """The run the flags describe (loads TensorFlow and the data)."""
  from compression_eval import training  # pylint: disable=import-outside-toplevel
  from compression_eval.training_run import Run  # pylint: disable=import-outside-toplevel
  from deepsic_tf import train  # pylint: disable=import-outside-toplevel
  from deepsic_tf.family import FAMILY  # pylint: disable=import-outside-toplevel
  preset = with_flags(PRESETS[args.preset], args,
                      ("steps", "batch_size", "patch_size", "learning_rate"))
  strategy = training.make_strategy(args.strategy)
  data = train.prepare_data(dataset, preset, preset.batch_size * strategy.num_replicas_in_sync,
                            manual_dir=args.manual_dir, data_dir=args.data_dir, seed=args.seed)
  try:
    config = train.config_for(args.architecture, args.preset, data.info,
                              lambda_distortion=args.lambda_distortion,
                              lambda_semantic=args.lambda_semantic, subsampling=args.subsampling,
                              bottleneck_channels=args.bottleneck_channels, filters=args.filters,
                              entropy_model=args.entropy_model,
                              head_filters=args.head_filters, head_units=args.head_units)
  except ValueError as error:
    raise UserError(str(error)) from None
  reference = config.architecture == "reference"
  init = Path(args.init) if args.init else None
  return Run(
      family=FAMILY, output=output, dataset=dataset, config=config, preset=preset,
      strategy=strategy, has_codec=not reference, after_export=_kodak(args),
      what=("the reference classifier (uncompressed)" if reference else
            f"DeepSIC {config.architecture}-semantic"),
      inputs=(f"{preset.batch_size} x {preset.patch_size}^2 patches "
              f"({data.info.num_classes} classes)"),
      fit=lambda verbose, backup_every: train.fit(config, preset, data, output, strategy,
                                                  verbose, backup_every, init,
                                                  _trained(args)),
      summary={"init": args.init, "trained": _trained(args),
               "steps_per_epoch": min(preset.steps_per_epoch, preset.steps),
               "curve_images": train.CURVE_BATCHES * preset.batch_size},
      report=lambda metrics: _validation(reference, preset.patch_size, dataset, metrics))


def main(argv: List[str] | None = None) -> int:
  return training_cli.main(argv, parse_args, _checked_output,
                           lambda args, output: _run(args, output, _dataset(args)))


entry_point = functools.partial(run_cli, main)  # the installed console script


if __name__ == "__main__":
  entry_point()
