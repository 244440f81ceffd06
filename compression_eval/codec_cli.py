"""What the codec command lines share: their sub-commands, input checks and quality lines.

`python -m deepsic_tf` and `python -m r2i_tf` read an image or a file, check that the
output can be written before loading TensorFlow, and report quality against an
original the same way.
"""
from __future__ import annotations

import argparse
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from compression_eval import metrics
from compression_eval.errors import ArgumentParser, UserError
from compression_eval.fileio import check_writable, read_bytes
from compression_eval.images import read_rgb8


def codec_parser(prog: str, description: str, file_kind: str,
                 commands: Sequence[str]) -> Tuple[ArgumentParser, Dict[str, ArgumentParser]]:
  """A parser with a sub-command per name in `commands` (compress, decompress, classify).

  Returns the parser and the sub-parsers, for codec-specific options.
  """
  parser = ArgumentParser(prog=prog, description=description)
  subparsers = parser.add_subparsers(dest="command", required=True)
  inputs = {"compress": "image to compress", "decompress": f"{file_kind} file",
            "classify": f"{file_kind} file"}
  outputs = {"compress": "file to write", "decompress": "PNG to write"}
  commands_by_name = {}
  for name in commands:
    command = subparsers.add_parser(name)
    command.add_argument("--model", required=True, help="codec SavedModel (RUN/codec)")
    command.add_argument("input", help=inputs[name])
    if name in outputs:
      command.add_argument("output", help=outputs[name])
    if name == "decompress":
      command.add_argument("--original", help="original image, to report PSNR and MS-SSIM")
    commands_by_name[name] = command
  return parser, commands_by_name


def read_input(args: argparse.Namespace) -> Tuple[Optional[np.ndarray], Optional[bytes]]:
  """(image, None) for compress, (None, file bytes) otherwise; then checks the output."""
  image = read_rgb8(args.input) if args.command == "compress" else None
  data = None if args.command == "compress" else read_bytes(args.input)
  if getattr(args, "output", None):
    check_writable(args.output)
  return image, data


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
