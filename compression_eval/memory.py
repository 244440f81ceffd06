"""This process's memory: resident now, and the peak since the last reset (Linux).

`resource.getrusage`'s ru_maxrss cannot be reset and survives exec, so a process spawned
by a large one starts with its parent's peak. /proc/self/status's VmHWM belongs to the
process's own address space, and writing 5 to /proc/self/clear_refs resets it, so a
benchmark can measure the peak of one step. Elsewhere both fall back to ru_maxrss.
"""
from __future__ import annotations

import resource
from pathlib import Path

_STATUS = Path("/proc/self/status")


def _status_mb(field: str) -> float | None:
  try:
    for line in _STATUS.read_text().splitlines():
      if line.startswith(field + ":"):
        return int(line.split()[1]) / 1024  # kB
  except OSError:
    pass
  return None


def _max_rss_mb() -> float:
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def resident_mb() -> float:
  """Resident memory now."""
  current = _status_mb("VmRSS")
  return _max_rss_mb() if current is None else current


def peak_mb() -> float:
  """The most resident memory since the process started or `reset_peak` last ran."""
  peak = _status_mb("VmHWM")
  return _max_rss_mb() if peak is None else peak


def reset_peak() -> bool:
  """Starts a new peak from the memory resident now; False where the system cannot."""
  try:
    Path("/proc/self/clear_refs").write_text("5")
  except OSError:
    return False
  return True
