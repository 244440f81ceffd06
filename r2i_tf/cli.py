"""`python -m r2i_tf` (installed as `r2i`): the progressive codec for users' own images.

  python -m r2i_tf compress   --model r2i-decoding photo.png [--stages 4]
                              [--entropy-coding [learned]]
  python -m r2i_tf decompress photo.r2i [photo.png] [--original photo.png]
  python -m r2i_tf models

`--model` takes a shipped model's name (`models` lists them, with their Kodak rate and
PSNR; its codec is exported once into a cache) or a codec SavedModel (RUN/codec).
Decompress finds the shipped model that wrote a file when `--model` is left out. The
output name is optional: photo.png -> photo.r2i -> photo.png, never replacing an
existing file unless named. IR2I models code the first code (stages 1-2) block by block
in a scan where each block's context is decoded first: `--scan wavefront` (default; an
anti-diagonal of blocks per network call) or `raster` (one block per call; same bytes
and pixels, slower); `--first-code-stages 1` sends stage 1 alone as the first code and
inpaints from it (beyond the paper; the file says so, decompress needs no flag).
`--entropy-coding` range-codes the bits with an adaptive model, `--entropy-coding
learned` with the model's learned bit model (`models` says which shipped models have
one); decompress reads either from the file's header.

Compress prints the file's bpp after each stage (real bytes, header included) and the
PSNR / MS-SSIM each stage reaches; decompress writes the image of the last complete
stage (a file cut short decodes to an earlier stage, and says so) and, given the
original, its PSNR and MS-SSIM. Bad input is one line on stderr and exit 1; outputs
are written atomically.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import List, Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TF's C++ start-up noise off the output

import numpy as np  # pylint: disable=wrong-import-position

from compression_eval import catalogue, codec_cli  # pylint: disable=wrong-import-position
from compression_eval.codec_cli import codec_parser, quality_against  # pylint: disable=wrong-import-position
from compression_eval.errors import run_cli  # pylint: disable=wrong-import-position
from compression_eval.fileio import atomic_write_bytes  # pylint: disable=wrong-import-position
from compression_eval.images import write_png  # pylint: disable=wrong-import-position
from compression_eval.model_lookup import shipped_codecs  # pylint: disable=wrong-import-position
from r2i_tf.family import FAMILY  # pylint: disable=wrong-import-position

ENTROPY_CODINGS = ("adaptive", "learned")


def main(argv: List[str] | None = None, prog: str = f"python -m {FAMILY.package}") -> int:
  parser, commands = codec_parser(FAMILY, prog, __doc__.split("\n\n")[0],
                                  ("compress", "decompress"))
  commands["compress"].add_argument("--stages", type=int, help="write only the first k stages")
  commands["compress"].add_argument("--entropy-coding", choices=ENTROPY_CODINGS,
                                    help="range-code the bits: alone or 'adaptive', with the "
                                    "adaptive model; 'learned', with the model's learned bit "
                                    "model; the paper's rate is without")
  commands["compress"].add_argument("--first-code-stages", type=int,
                                    help="IR2I: stages sent as the first code, whose "
                                    "reconstruction is the inpainting context (default the "
                                    "model's, 2 as in the paper; 1 codes low rates better)")
  for command in (commands["compress"], commands["decompress"]):
    command.add_argument("--scan", choices=("wavefront", "raster"), default="wavefront",
                         help="IR2I block order for the first code (same result, speed differs)")
  argv = _entropy_coding_alone(sys.argv[1:] if argv is None else argv)
  code = codec_cli.main(FAMILY, parser, argv, _run)
  if parser.parse_args(argv).command == "models":
    print(_learned_note())
  return code


def _entropy_coding_alone(argv: List[str]) -> List[str]:
  """`--entropy-coding` without a model name means the adaptive one; an optional value
  would take the input file after it for one (`--entropy-coding photo.png`)."""
  return [f"{arg}=adaptive" if arg == "--entropy-coding" and argv[i + 1:i + 2] not in
          ([name] for name in ENTROPY_CODINGS) else arg for i, arg in enumerate(argv)]


def _learned_note() -> str:
  """Which shipped models have a learned bit model (`--entropy-coding learned`)."""
  from r2i_tf.bit_model import FILE_NAME  # pylint: disable=import-outside-toplevel
  names = [name for name in shipped_codecs(FAMILY)
           if (catalogue.folder(name) / FILE_NAME).is_file()]
  return (f"learned bit model (--entropy-coding learned): {', '.join(names) or 'none'}")


def _run(args: argparse.Namespace, image: Optional[np.ndarray], data: Optional[bytes],
         folder: Path) -> None:
  """The command, on the input that `codec_cli.main` read and checked."""
  # TensorFlow loads here, after the cheap checks.
  from compression_eval import metrics  # pylint: disable=import-outside-toplevel
  from r2i_tf import bitstream  # pylint: disable=import-outside-toplevel
  from r2i_tf.saved_codec import SavedCodec  # pylint: disable=import-outside-toplevel
  codec = SavedCodec(folder, first_code_stages=getattr(args, "first_code_stages", None))

  if args.command == "compress":
    data = codec.compress(image, args.stages, entropy_coded=args.entropy_coding or False,
                          scan_order=args.scan)
    height, width = image.shape[:2]
    parsed = codec.parse(data)
    reconstructions = codec.decode_parsed(parsed, args.scan)
    atomic_write_bytes(args.output, data)
    print(f"{args.output}: {len(data)} bytes, {8 * len(data) / (height * width):.4f} bpp, "
          f"{len(reconstructions)} stages")
    for stage, (size, reconstruction) in enumerate(
        zip(bitstream.sizes_by_stage(parsed), reconstructions), start=1):
      if stage < parsed.first_code_stages:
        continue  # inside the first code: no file stops there
      print(f"  stage {stage}: {8 * size / (height * width):.4f} bpp, "
            f"PSNR {metrics.psnr(image, reconstruction):.2f} dB, "
            f"MS-SSIM {metrics.ms_ssim(image, reconstruction):.4f}")
  else:
    decoded = codec.decompress(data, args.scan)
    write_png(args.output, decoded.image)
    height, width = decoded.image.shape[:2]
    line = (f"{args.output}: {width}x{height}, stage {decoded.stages} of "
            f"{decoded.stages_written}, {8 * len(data) / (height * width):.4f} bpp")
    if decoded.stages < decoded.stages_written:
      line += " (file cut short: decoded the complete stages)"
    line += quality_against(args.original, decoded.image)
    print(line)


def entry_point() -> None:
  """Console script `r2i`."""
  run_cli(lambda: main(prog=FAMILY.name))
