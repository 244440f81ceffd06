"""The context coder's design, measured: which contexts and starting tables save bits.

  python benchmarks/deepsic_context_ablation.py --model deepsic-post-q2 \
      --kodak-dir ../shared/data/kodak [--images 400] [--seeds 0,1]

For one shipped DeepSIC model, the rate (bits per pixel, what a perfect coder spends on
the decisions; the files are within bytes of it) of its code on all Kodak images under:
the model's own entropy model (its estimate); the context coder starting from empty
counts (adaptation alone); with one zero-flag group (no context across channels); and
with tables learned from `--images` Imagenette training images drawn with each seed,
at several starting weights. The pixels are the model's in every row.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compression_eval.errors import ArgumentParser, run_cli  # pylint: disable=wrong-import-position


def main(argv: List[str] | None = None) -> int:
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--model", default="deepsic-post-q2")
  parser.add_argument("--kodak-dir", default="../shared/data/kodak")
  parser.add_argument("--dataset", default="../shared/data/imagenette")
  parser.add_argument("--images", type=int, default=400)
  parser.add_argument("--seeds", default="0,1")
  args = parser.parse_args(argv)
  from compression_eval.datasets.image_folder import ImageFolderSource  # pylint: disable=import-outside-toplevel
  from compression_eval.datasets.kodak_loader import load_kodak  # pylint: disable=import-outside-toplevel
  from compression_eval.images import read_rgb8  # pylint: disable=import-outside-toplevel
  from compression_eval.model_lookup import codec_folder  # pylint: disable=import-outside-toplevel
  from deepsic_tf import context_coding as cc  # pylint: disable=import-outside-toplevel
  from deepsic_tf.family import FAMILY  # pylint: disable=import-outside-toplevel
  from deepsic_tf.saved_codec import SavedCodec  # pylint: disable=import-outside-toplevel
  codec = SavedCodec(codec_folder(FAMILY, args.model))
  kodak = load_kodak(args.kodak_dir)
  pixels = sum(image.shape[0] * image.shape[1] for _, image in kodak)
  kodak_codes = [codec.code(image) for _, image in kodak]
  model_bits = sum(8 * len(codec.compress(image)) for _, image in kodak)
  levels, channels = codec.levels, codec.config.bottleneck_channels
  rows = [("the model's own entropy model (its files)", model_bits / pixels)]

  def rate(tables, groups: int = cc.GROUPS) -> float:
    return sum(cc.ideal_bits(code, levels, tables, groups) for code in kodak_codes) / pixels

  empty = cc.ContextTables.empty(channels)
  rows.append(("context, empty start (adaptation alone)", rate(empty)))
  source = ImageFolderSource.scan(args.dataset, "train")
  for seed in (int(seed) for seed in args.seeds.split(",")):
    codes = [codec.code(read_rgb8(path)) for path in source.sample(args.images, seed)]
    for weight in (8, cc.PRIOR_WEIGHT, 128, 1024):
      tables = cc.learn_tables(codes, levels, codec.model_id, weight)
      rows.append((f"context, learned tables (seed {seed}), weight {weight}", rate(tables)))
    tables = cc.learn_tables(codes, levels, codec.model_id, cc.PRIOR_WEIGHT, groups=1)
    rows.append((f"context, learned tables (seed {seed}), one zero-flag group",
                 rate(tables, groups=1)))
  base = rows[0][1]
  print(f"{args.model} on {len(kodak)} Kodak images (bits per pixel; change against the first row)")
  for name, value in rows:
    print(f"  {name:<62} {value:.4f}  {100 * (value / base - 1):+.1f} %")
  return 0


if __name__ == "__main__":
  run_cli(main)
