"""Progress for a slow step a user waits on: silent when it is quick, shown once it is not.

Exporting a shipped model's codec takes tens of seconds the first time; a command that
says nothing for that long looks hung. `progress` says what is happening once a step
has taken a second, counts the seconds on a terminal, and says how long it took.
"""
from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import Iterator, TextIO

QUIET_SECONDS = 1.0


@contextlib.contextmanager
def progress(what: str, stream: TextIO = sys.stderr,
             quiet_seconds: float = QUIET_SECONDS) -> Iterator[None]:
  """Shows `what` on `stream` while the block runs, if it runs longer than `quiet_seconds`."""
  done, shown = threading.Event(), threading.Event()
  live = stream.isatty()
  start = time.perf_counter()

  def report() -> None:
    if done.wait(quiet_seconds):
      return
    shown.set()
    stream.write(f"{what} ..." + ("" if live else "\n"))
    stream.flush()
    while live and not done.wait(1.0):
      stream.write(f"\r{what} ... {time.perf_counter() - start:.0f} s")
      stream.flush()

  def finish(outcome: str) -> None:
    done.set()
    reporter.join()
    if shown.is_set():
      stream.write(("\r" if live else "") + f"{what}: {outcome} after "
                   f"{time.perf_counter() - start:.0f} s\n")
      stream.flush()

  reporter = threading.Thread(target=report, daemon=True)
  reporter.start()
  try:
    yield
  except BaseException:
    finish("stopped")
    raise
  finish("done")
