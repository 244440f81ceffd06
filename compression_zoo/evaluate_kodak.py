"""Rate-distortion evaluation of codecs on Kodak, or on a folder of your own photos.

  python scripts/evaluate_kodak.py --codecs jpeg,jpeg2000,webp,avif \
      --kodak-dir ../shared/data/kodak --out results/kodak
  python scripts/evaluate_kodak.py --images ~/photos --codecs jpeg,deepsic-post-q2

Writes <out>/<codec>.json (CompressAI's layout), <out>/rd_<metric>.png for PSNR and
MS-SSIM on RGB and luma, and <out>/kodak.md (<out>/images.md for --images: per-setting
points, BD rates against the anchor codec over a bpp range); prints the Markdown.
Codecs are named as in `compression_zoo.registry`: the classic codecs, a shipped
model's name, or a family's codec at a path (`deepsic:RUN/codec`, `r2i:...`).
--images takes every image directly in the folder, any size and format (greyscale,
palette and RGBA converted to RGB as the codec command lines do).

`--results` brings back curves an earlier run of this script measured (its
<out>/<codec>.json) into the tables and plots, so that a new model is compared with
codecs that were already evaluated on the same images without coding them again.
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
from pathlib import Path
from typing import List, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TF's C++ start-up noise off the one-line errors

from tqdm import tqdm  # pylint: disable=wrong-import-position

from compression_eval import published, rd  # pylint: disable=wrong-import-position
from compression_eval.codecs import Codec  # pylint: disable=wrong-import-position
from compression_eval.errors import ArgumentParser, UserError, run_cli  # pylint: disable=wrong-import-position
from compression_eval.fileio import atomic_write_text, ensure_dir  # pylint: disable=wrong-import-position
from compression_eval.images import read_folder  # pylint: disable=wrong-import-position
from compression_eval.measure import NamedImage  # pylint: disable=wrong-import-position
from compression_eval.plots import plot_rd  # pylint: disable=wrong-import-position
from compression_eval.report import rd_report  # pylint: disable=wrong-import-position
from compression_zoo import registry  # pylint: disable=wrong-import-position
from compression_zoo.evaluate import evaluate_codec  # pylint: disable=wrong-import-position

PLOT_METRICS = ("psnr-rgb", "ms-ssim-rgb", "psnr-y", "ms-ssim-y")
# What every curve of this script holds (`compression_eval.measure.measure`).
RESULT_KEYS = ("setting", "bpp", "psnr-rgb", "ms-ssim-rgb", "ssim-rgb", "psnr-y", "ms-ssim-y",
               "encoding_time", "decoding_time")


def _bpp_range(text: str) -> Tuple[float, float]:
  try:
    low, high = (float(part) for part in text.split(","))
  except ValueError:
    raise argparse.ArgumentTypeError("expected LOW,HIGH in bpp, e.g. 0,1") from None
  if not 0 <= low < high:
    raise argparse.ArgumentTypeError("expected 0 <= LOW < HIGH")
  return low, high


def parse_args(argv: List[str]) -> argparse.Namespace:
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--codecs", default="jpeg,jpeg2000,webp,avif",
                      help=f"comma-separated codec specs; known: {', '.join(registry.available())}")
  images = parser.add_mutually_exclusive_group()
  images.add_argument("--kodak-dir", help="folder with kodim01.png ... kodim24.png "
                      "(without it and --images the Kodak tfds builder downloads them)")
  images.add_argument("--images", metavar="DIR", help="evaluate on every image in DIR (your "
                      "own photos, any sizes and formats) instead of Kodak")
  parser.add_argument("--data-dir", help="tensorflow-datasets data dir for the Kodak build")
  parser.add_argument("--out", default="results/kodak", help="output folder")
  parser.add_argument("--anchor", default="jpeg",
                      help="codec(s) the BD rates are measured against, by result name, "
                      "comma-separated (e.g. jpeg,r2i-residual: one table each)")
  parser.add_argument("--bpp-range", type=_bpp_range, default=(0.0, 1.0),
                      help="rate range of the BD rates, LOW,HIGH (default 0,1)")
  parser.add_argument("--published", nargs="*", default=[],
                      help="published curves to overlay: CompressAI JSON or tfc results .txt")
  parser.add_argument("--results", nargs="*", default=[], metavar="JSON",
                      help="curves an earlier run of this script measured on the same images "
                      "(<out>/<codec>.json), joined to the tables and plots as they are")
  parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                      help="images measured in parallel (1 for undisturbed coding times)")
  parser.add_argument("--limit", type=int, default=None,
                      help="evaluate only the first N images (quick checks)")
  return parser.parse_args(argv)


def earlier_result(path: str) -> rd.RDCurve:
  """A curve this script wrote before; published curves lack our metrics (use --published)."""
  curve = rd.read_json(path)
  missing = [key for key in RESULT_KEYS if key not in curve.results]
  if missing:
    raise UserError(f"{path} lacks {', '.join(missing)}: not a result of this script "
                    "(overlay published curves with --published)")
  curve.description += f" (measured earlier: {path})"
  return curve


def _codecs(args: argparse.Namespace) -> Tuple[List[str], List[Codec], List[rd.RDCurve]]:
  """(specs, their codecs, earlier curves), refusing an empty or ambiguous choice before
  any image is read."""
  specs = [spec for spec in args.codecs.split(",") if spec.strip()]
  if not specs and not args.results:
    raise UserError("--codecs is empty")
  chosen = [registry.make_codec(spec) for spec in specs]  # fails fast on a bad spec
  earlier = [earlier_result(path) for path in args.results]
  names = [codec.name for codec in chosen] + [curve.name for curve in earlier]
  repeated = sorted({name for name in names if names.count(name) > 1})
  if repeated:
    raise UserError(f"two curves are named {', '.join(repeated)}: evaluate each codec once")
  return specs, chosen, earlier


def _images(args: argparse.Namespace) -> Tuple[str, List[NamedImage]]:
  """(what the images are, the images): Kodak, or the photos in --images."""
  if args.images:
    return Path(args.images).resolve().name, read_folder(args.images)[:args.limit]
  # Imported here: it loads TensorFlow, which the checks before it should not wait for.
  from compression_eval.datasets import load_kodak  # pylint: disable=import-outside-toplevel
  return "Kodak", load_kodak(args.kodak_dir, data_dir=args.data_dir)[:args.limit]


def main(argv: List[str] | None = None) -> int:
  args = parse_args(sys.argv[1:] if argv is None else argv)
  if args.limit is not None and args.limit < 1:
    raise UserError("--limit must be at least 1")
  specs, chosen, earlier = _codecs(args)
  overlays = published.load_all(args.published)
  out = ensure_dir(args.out)
  image_set, images = _images(args)

  curves = []
  with tqdm(total=len(specs) * len(images), unit="image", file=sys.stderr) as progress:
    for spec, codec in zip(specs, chosen):
      progress.set_description(codec.name)
      curve = evaluate_codec(spec, images, jobs=args.jobs, on_image=lambda _: progress.update(1),
                             codec=codec)
      rd.write_json(curve, out / f"{curve.name}.json")
      curves.append(curve)
  curves += earlier

  for metric in PLOT_METRICS:
    plot_rd(curves, metric, out / f"rd_{metric}.png", published=overlays,
            title=f"{image_set} ({len(images)} images)")
  anchors = [name.strip() for name in args.anchor.split(",") if name.strip()]
  report = rd_report(curves, anchors, args.bpp_range, len(images), overlays, image_set)
  atomic_write_text(out / ("images.md" if args.images else "kodak.md"), report)
  print(report)
  print(f"wrote {out}/: {', '.join(sorted(path.name for path in Path(out).iterdir()))}",
        file=sys.stderr)
  return 0


entry_point = functools.partial(run_cli, main)  # the installed console script


if __name__ == "__main__":
  entry_point()
