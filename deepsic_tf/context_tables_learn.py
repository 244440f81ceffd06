"""Learns a DeepSIC model's context tables (`deepsic_tf.context_coding`) from training codes.

  python scripts/learn_context_tables.py --model deepsic-post-q2 --images 400

The codec codes whole images of an ImageNet-layout folder's training split (never
Kodak) to their integer codes; every context's decisions are counted over them, in the
coder's own order, and scaled to `context_coding.PRIOR_WEIGHT` decisions, the counts each
file's coding starts from (CABAC's initialisation tables). Both coders' files are then
written for held-out training images, and their rates printed.
The tables go beside the model's weights (saved_models/NAME/context_tables.npz).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import List, Sequence

from compression_eval import side_tables
from compression_eval.datasets.image_folder import ImageFolderSource
from compression_eval.errors import UserError, run_cli
from compression_eval.images import read_rgb8
from compression_eval.model_lookup import beside_weights, codec_folder
from deepsic_tf import context_coding
from deepsic_tf.family import FAMILY
from deepsic_tf.saved_codec import SavedCodec


def held_out_rates(codec: SavedCodec, paths: Sequence[str]) -> dict:
  """Bits per pixel of the files of the model's own entropy model and of the context coder."""
  bits = {"model_bpp": 0, "context_bpp": 0}
  pixels = 0
  for path in paths:
    image = read_rgb8(path)
    bits["model_bpp"] += 8 * len(codec.compress(image))
    bits["context_bpp"] += 8 * len(codec.compress(image, context_coded=True))
    pixels += image.shape[0] * image.shape[1]
  return {name: value / pixels for name, value in bits.items()}


def main(argv: List[str] | None = None) -> int:
  parser = side_tables.learner_parser(__doc__.split("\n\n")[0], "DeepSIC",
                                      context_coding.FILE_NAME, images=400)
  parser.add_argument("--weight", type=int, default=context_coding.PRIOR_WEIGHT,
                      help="decisions a context's initial counts are worth")
  args = parser.parse_args(sys.argv[1:] if argv is None else argv)
  if args.images < 1 or args.held_out < 0 or args.weight < 1:
    raise UserError("--images and --weight must be at least 1, --held-out at least 0")
  started = time.perf_counter()
  folder = codec_folder(FAMILY, args.model)
  codec = SavedCodec(folder)
  output = Path(args.output or beside_weights(args.model, folder, context_coding.FILE_NAME))
  wanted = args.images + args.held_out
  paths = ImageFolderSource.scan(args.dataset, "train").sample(wanted, args.seed)
  print(f"coding {wanted} images of {args.dataset}/train with {args.model}", flush=True)
  codes = [codec.code(read_rgb8(path)) for path in paths[:args.images]]
  tables = context_coding.learn_tables(codes, codec.levels, codec.model_id, args.weight)
  codec.use_context_tables(tables)
  rates = held_out_rates(codec, paths[args.images:]) if args.held_out else {}
  return side_tables.write(tables.save, output, args, started, weight=args.weight,
                           held_out_rates=rates)


def entry_point() -> None:
  run_cli(main)
