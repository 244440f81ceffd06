"""What the codec command lines share: their sub-commands, model choice, input checks and
quality lines.

`python -m deepsic_tf` (installed as `deepsic`) and `python -m r2i_tf` (`r2i`) take a
shipped model by name or a codec folder (`compression_eval.model_lookup`), derive the
output's name when it is left out, check that the output can be written before loading
TensorFlow, list the shipped models, and report quality against an original the same
way.
"""
from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from compression_eval import catalogue, metrics
from compression_eval.errors import ArgumentParser, UserError
from compression_eval.family import Family
from compression_eval.fileio import check_writable, read_bytes
from compression_eval.images import read_rgb8
from compression_eval.model_lookup import codec_folder, codec_of_file, shipped_codecs

DISTRIBUTION = "semantic-inpainting-compression"
_HELP = {"compress": "compress an image into a {extension} file",
         "decompress": "decode a {extension} file into a PNG",
         "classify": "print the class a {extension} file carries (no pixels decoded)",
         "models": "list the shipped models with their Kodak rate and PSNR"}


def version() -> str:
  try:
    return metadata.version(DISTRIBUTION)
  except metadata.PackageNotFoundError:
    return "(not installed)"


def _add_model_arguments(command: ArgumentParser, family: Family, prog: str, name: str) -> None:
  kind = "image (PNG, JPEG, ...)" if name == "compress" else f"{family.title} file"
  command.add_argument("input", help=f"the {kind} to read")
  if name != "classify":
    derived = family.extension if name == "compress" else ".png"
    command.add_argument("output", nargs="?", help=f"the file to write (default: the input "
                         f"with {derived}; an existing file is then left alone)")
  shipped = f"a shipped model's name (`{prog} models` lists them) or a codec folder (RUN/codec)"
  command.add_argument("--model", required=name == "compress", help=shipped if name ==
                       "compress" else f"{shipped}; default: the shipped model that wrote it")
  if name == "decompress":
    command.add_argument("--original", help="original image, to report PSNR and MS-SSIM")


def codec_parser(family: Family, prog: str, description: str, commands: Sequence[str]
                 ) -> Tuple[ArgumentParser, Dict[str, ArgumentParser]]:
  """A parser with a sub-command per name in `commands` (compress, decompress, classify)
  and `models`, and `--version`.

  Returns the parser and the sub-parsers, for codec-specific options.
  """
  parser = ArgumentParser(prog=prog, description=description)
  parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
  subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
  commands_by_name = {}
  for name in (*commands, "models"):
    line = _HELP[name].format(extension=family.extension)
    command = subparsers.add_parser(name, help=line, description=line)
    if name != "models":
      _add_model_arguments(command, family, prog, name)
    commands_by_name[name] = command
  return parser, commands_by_name


def _output(args: argparse.Namespace, family: Family) -> Optional[str]:
  """The output path: as given, or the input's with the command's extension, which must
  not exist yet (a derived name never replaces a file)."""
  if "output" not in args or args.output:
    return getattr(args, "output", None)
  derived = Path(args.input).with_suffix(family.extension if args.command == "compress"
                                         else ".png")
  if derived.exists():
    raise UserError(f"{derived} exists: name the output to replace it, or move that file")
  return str(derived)


def read_input(args: argparse.Namespace, family: Family
               ) -> Tuple[Optional[np.ndarray], Optional[bytes]]:
  """(image, None) for compress, (None, file bytes) otherwise; then settles and checks
  the output (`args.output`)."""
  image = read_rgb8(args.input) if args.command == "compress" else None
  data = None if args.command == "compress" else read_bytes(args.input)
  args.output = _output(args, family)
  if args.output:
    check_writable(args.output)
  return image, data


def codec_path(args: argparse.Namespace, family: Family, data: Optional[bytes]) -> Path:
  """The codec SavedModel to use: `--model`'s, or that of the shipped model that wrote
  the file."""
  if args.model:
    return codec_folder(family, args.model)
  return codec_of_file(family, data, args.input)


# A command's work once its input is read and its codec found: (args, the image to
# compress or None, the file's bytes or None, the codec SavedModel).
Command = Callable[[argparse.Namespace, Optional[np.ndarray], Optional[bytes], Path], None]


def main(family: Family, parser: ArgumentParser, argv: Optional[List[str]],
         command: Command) -> int:
  """A codec command line: `models` lists the family's shipped codecs; the others read
  and check their input and output (before any TensorFlow loads), find the codec and
  run `command`."""
  args = parser.parse_args(sys.argv[1:] if argv is None else argv)
  if args.command == "models":
    print(catalogue.listing(shipped_codecs(family)))
    return 0
  image, data = read_input(args, family)
  command(args, image, data, codec_path(args, family, data))
  return 0


def quality_against(original_path: Optional[str], decoded: np.ndarray) -> str:
  """", PSNR .. dB, MS-SSIM .." of a decoded image against its original ("" without one)."""
  if not original_path:
    return ""
  original = read_rgb8(original_path)
  if original.shape != decoded.shape:
    raise UserError(f"--original is {original.shape[1]}x{original.shape[0]}, "
                    f"the file decodes to {decoded.shape[1]}x{decoded.shape[0]}")
  return (f", PSNR {metrics.psnr(original, decoded):.2f} dB, "
          f"MS-SSIM {metrics.ms_ssim(original, decoded):.4f}")
