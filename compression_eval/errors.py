"""The project's user-facing error and the wrapper that turns it into one line.

Every path a user drives (scripts, CLIs) raises `UserError` for bad input: a missing
folder, an unreadable image, an unwritable output. `run_cli` prints it as a single
line on stderr and exits 1, so users never see a traceback for their own mistakes.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable, NoReturn


class UserError(Exception):
  """A problem with what the user asked for, reported as one line and exit code 1."""


def fail(message: str) -> NoReturn:
  """Prints `message` as the one-line error and exits 1."""
  print(f"error: {message}", file=sys.stderr)
  raise SystemExit(1)


def run_cli(main: Callable[[], int | None]) -> NoReturn:
  """Runs a script's `main`, mapping `UserError` and Ctrl-C to one line and exit 1."""
  try:
    code = main()
  except UserError as error:
    fail(str(error).splitlines()[0] if str(error) else type(error).__name__)
  except KeyboardInterrupt:
    fail("interrupted")
  raise SystemExit(code or 0)


class ArgumentParser(argparse.ArgumentParser):
  """argparse, but a bad command line is one line (`error: ...`) and exit 2, no usage dump."""

  def error(self, message: str) -> NoReturn:
    print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
    raise SystemExit(2)
