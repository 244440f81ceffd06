"""`python -m deepsic_tf` (installed as `deepsic`): the codec for users' own images.

  python -m deepsic_tf compress   --model deepsic-post-q2 photo.png      # -> photo.dsic
  python -m deepsic_tf decompress photo.dsic [photo.png] [--original photo.png]
  python -m deepsic_tf classify   photo.dsic
  python -m deepsic_tf models

`--model` takes a shipped model's name (`models` lists them, with their Kodak rate and
PSNR; its codec is exported once into a cache) or a codec SavedModel (RUN/codec).
Decompress and classify find the shipped model that wrote a file when `--model` is left
out. The output name is optional: photo.png -> photo.dsic -> photo.png, never replacing
an existing file unless named. Compress prints the bpp, the class and the PSNR of the
reconstruction; decompress prints the class and, given the original, PSNR and MS-SSIM.
`compress --entropy-coding context` codes the code with the context-adaptive binary
coder (the paper's CABAC, `deepsic_tf.context_coding`; fewer bits, same pixels),
`--entropy-coding model` with the model's own entropy model; the default is context
where the model has context tables (every shipped model does), else the model's own.
Decompress and classify read either. Bad input (an unknown model, an unreadable image, a corrupt, truncated or foreign file,
an unwritable output) is one line on stderr and exit 1; outputs are written atomically.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import List, Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TF's C++ start-up noise off the output

import numpy as np  # pylint: disable=wrong-import-position

from compression_eval import codec_cli  # pylint: disable=wrong-import-position
from compression_eval.codec_cli import codec_parser, quality_against  # pylint: disable=wrong-import-position
from compression_eval.errors import run_cli  # pylint: disable=wrong-import-position
from compression_eval.fileio import atomic_write_bytes  # pylint: disable=wrong-import-position
from compression_eval.images import write_png  # pylint: disable=wrong-import-position
from deepsic_tf.family import FAMILY  # pylint: disable=wrong-import-position


def main(argv: List[str] | None = None, prog: str = f"python -m {FAMILY.package}") -> int:
  parser, commands = codec_parser(FAMILY, prog, __doc__.split("\n\n")[0],
                                  ("compress", "decompress", "classify"))
  commands["compress"].add_argument(
      "--entropy-coding", choices=("context", "model"),
      help="context: the context-adaptive binary coder (needs the model's context tables); "
           "model: the model's own entropy model (default: context where it has tables)")
  return codec_cli.main(FAMILY, parser, argv, _run)


def _run(args: argparse.Namespace, image: Optional[np.ndarray], data: Optional[bytes],
         folder: Path) -> None:
  """The command, on the input that `codec_cli.main` read and checked."""
  # TensorFlow loads here, after the cheap checks.
  from compression_eval import metrics  # pylint: disable=import-outside-toplevel
  from deepsic_tf.saved_codec import SavedCodec  # pylint: disable=import-outside-toplevel
  codec = SavedCodec(folder)

  if args.command == "compress":
    context = (args.entropy_coding == "context" if args.entropy_coding else
               codec.has_context_tables)
    data = codec.compress(image, context_coded=context)
    decoded = codec.decompress(data)
    atomic_write_bytes(args.output, data)
    height, width = image.shape[:2]
    print(f"{args.output}: {len(data)} bytes, {8 * len(data) / (height * width):.4f} bpp "
          f"({'context-coded' if context else 'model-coded'}), class {decoded.class_name!r}, "
          f"PSNR {metrics.psnr(image, decoded.image):.2f} dB")
  elif args.command == "decompress":
    decoded = codec.decompress(data)
    write_png(args.output, decoded.image)
    height, width = decoded.image.shape[:2]
    print(f"{args.output}: {width}x{height}, {8 * len(data) / (height * width):.4f} bpp, "
          f"class {decoded.class_name!r}" + quality_against(args.original, decoded.image))
  else:
    decoded = codec.classify(data)
    print(f"class {decoded.label}: {decoded.class_name}")


def entry_point() -> None:
  """Console script `deepsic`."""
  run_cli(lambda: main(prog=FAMILY.name))
