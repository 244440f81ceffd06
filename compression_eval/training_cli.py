"""What the trainers' command lines share: the flags every trainer takes (with the same
meaning in both), their checks, and the order a training command runs in.

Free of TensorFlow: a trainer checks its command line with these before loading it.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple

from compression_eval.errors import ArgumentParser, UserError


def add_common_flags(parser: ArgumentParser, seeded: str) -> None:
  """The data, schedule, distribution and resume flags of every trainer.

  `seeded` says what `--seed` seeds in this trainer.
  """
  parser.add_argument("--manual-dir", help="imagenet2012: folder with the ILSVRC-2012 tars")
  parser.add_argument("--data-dir", help="tensorflow-datasets data dir")
  parser.add_argument("--steps", type=int, help="training steps (preset default)")
  parser.add_argument("--batch-size", type=int, help="per-replica batch (preset default)")
  parser.add_argument("--learning-rate", type=float, help="initial Adam rate (preset default)")
  parser.add_argument("--strategy", choices=("default", "mirrored", "multiworker"),
                      default="default", help="tf.distribute strategy; multiworker reads TF_CONFIG")
  parser.add_argument("--backup-every", type=int,
                      help="steps between backups (default 100): a killed run, rerun with the "
                      "same command, resumes from the last one")
  parser.add_argument("--seed", type=int, default=0, help=f"seeds {seeded}")


def check_positive(args: Any, names: Tuple[str, ...]) -> None:
  """Refuses a zero or negative value of any of the flags `names` (as attribute names)."""
  for name in names:
    value = getattr(args, name)
    if value is not None and value <= 0:
      raise UserError(f"--{name.replace('_', '-')} must be positive")


def comma_integers(text: str) -> Tuple[int, ...]:
  """The integers of a comma list such as 4,2,2,1 (a flag's value).

  Raises:
    ValueError: a part is not an integer.
  """
  return tuple(int(part) for part in text.split(","))


def with_flags(preset: Any, args: Any, names: Tuple[str, ...]) -> Any:
  """The preset with the fields that flags of the same names set replaced."""
  return dataclasses.replace(preset, **{name: getattr(args, name) for name in names
                                        if getattr(args, name) is not None})


def main(argv: Optional[List[str]], parse_args: Callable[[List[str]], argparse.Namespace],
         checked_output: Callable[[argparse.Namespace], Path],
         build_run: Callable[[argparse.Namespace, Path], Any]) -> int:
  """A training command: parse and check the flags (no TensorFlow yet, so that a mistake
  is reported at once), then build the run (`compression_eval.training_run.Run`) and
  execute it."""
  args = parse_args(sys.argv[1:] if argv is None else argv)
  sys.stdout.reconfigure(line_buffering=True)  # progress shows up in logs as it happens
  output = checked_output(args)
  # TensorFlow loads here, after the cheap checks above.
  from compression_eval.training_run import execute  # pylint: disable=import-outside-toplevel
  return execute(build_run(args, output), args)
