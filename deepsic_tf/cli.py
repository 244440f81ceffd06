"""`python -m deepsic_tf compress|decompress|classify`: the codec for users' own images.

  python -m deepsic_tf compress   --model RUN/codec photo.png photo.dsic
  python -m deepsic_tf decompress --model RUN/codec photo.dsic photo.png [--original photo.png]
  python -m deepsic_tf classify   --model RUN/codec photo.dsic

Compress prints the bpp, the class and the PSNR of the reconstruction; decompress prints
the class and, given the original, PSNR and MS-SSIM. Bad input (missing model, an
unreadable image, a corrupt, truncated or foreign file, an unwritable output) is one
line on stderr and exit 1; outputs are written atomically.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TF's C++ start-up noise off the output

from compression_eval.errors import ArgumentParser, UserError, run_cli  # pylint: disable=wrong-import-position
from compression_eval.fileio import atomic_write_bytes  # pylint: disable=wrong-import-position
from compression_eval.images import read_rgb8, write_png  # pylint: disable=wrong-import-position


def _parser() -> ArgumentParser:
  parser = ArgumentParser(prog="python -m deepsic_tf", description=__doc__.split("\n\n")[0])
  commands = parser.add_subparsers(dest="command", required=True)
  for name, source, target in (("compress", "image to compress", "file to write"),
                               ("decompress", "DeepSIC file", "PNG to write"),
                               ("classify", "DeepSIC file", None)):
    command = commands.add_parser(name)
    command.add_argument("--model", required=True, help="codec SavedModel (RUN/codec)")
    command.add_argument("input", help=source)
    if target:
      command.add_argument("output", help=target)
    if name == "decompress":
      command.add_argument("--original", help="original image, to report PSNR and MS-SSIM")
  return parser


def _read_bytes(path: str) -> bytes:
  try:
    return Path(path).read_bytes()
  except OSError as error:
    raise UserError(f"cannot read {path}: {error.strerror}") from None


def _check_output(path: str) -> None:
  """Fails before the slow work if the output could never be written."""
  folder = Path(path).resolve().parent
  if not folder.is_dir():
    raise UserError(f"cannot write {path}: folder {folder} does not exist")
  if not os.access(folder, os.W_OK):
    raise UserError(f"cannot write {path}: folder {folder} is not writable")


def main(argv: List[str] | None = None) -> int:
  args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
  if args.command == "compress":
    image = read_rgb8(args.input)
  else:
    data = _read_bytes(args.input)
  if getattr(args, "output", None):
    _check_output(args.output)

  # TensorFlow loads here, after the cheap checks above.
  from compression_eval import metrics  # pylint: disable=import-outside-toplevel
  from deepsic_tf.saved_codec import SavedCodec  # pylint: disable=import-outside-toplevel
  codec = SavedCodec(args.model)

  if args.command == "compress":
    data = codec.compress(image)
    decoded = codec.decompress(data)
    atomic_write_bytes(args.output, data)
    height, width = image.shape[:2]
    print(f"{args.output}: {len(data)} bytes, {8 * len(data) / (height * width):.4f} bpp, "
          f"class {decoded.class_name!r}, PSNR {metrics.psnr(image, decoded.image):.2f} dB")
  elif args.command == "decompress":
    decoded = codec.decompress(data)
    write_png(args.output, decoded.image)
    height, width = decoded.image.shape[:2]
    line = (f"{args.output}: {width}x{height}, {8 * len(data) / (height * width):.4f} bpp, "
            f"class {decoded.class_name!r}")
    if args.original:
      original = read_rgb8(args.original)
      if original.shape != decoded.image.shape:
        raise UserError(f"--original is {original.shape[1]}x{original.shape[0]}, "
                        f"the file decodes to {width}x{height}")
      line += (f", PSNR {metrics.psnr(original, decoded.image):.2f} dB, "
               f"MS-SSIM {metrics.ms_ssim(original, decoded.image):.4f}")
    print(line)
  else:
    decoded = codec.classify(data)
    print(f"class {decoded.label}: {decoded.class_name}")
  return 0


def entry_point() -> None:
  """Console script `deepsic`."""
  run_cli(main)
