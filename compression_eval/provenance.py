"""Where a result came from: the code's commit and the versions of what computed it.

Every training summary, every reproduced report and every measured RD curve carries this
record, so a figure can be traced to the code and libraries that produced it, and a
cached curve is reused only while the libraries that measured it are the ones installed.
"""
from __future__ import annotations

import datetime
import platform
import subprocess
from importlib import metadata
from typing import Dict, Optional

from compression_eval.locations import REPO as _CHECKOUT
# The distributions whose versions can change a figure: the model code's framework, the
# entropy coder, image I/O and the classic codecs (Pillow), the array maths.
DISTRIBUTIONS = ("tensorflow", "tensorflow-compression", "Pillow", "numpy")


def _git(*args: str) -> Optional[str]:
  try:
    result = subprocess.run(["git", "-C", str(_CHECKOUT), *args], capture_output=True,
                            text=True, timeout=10, check=False)
  except (OSError, subprocess.TimeoutExpired):
    return None
  return result.stdout.strip() if result.returncode == 0 else None


def versions() -> Dict[str, str]:
  """Python's version and those of `DISTRIBUTIONS` ("not installed" where absent)."""
  found = {"python": platform.python_version()}
  for name in DISTRIBUTIONS:
    try:
      found[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
      found[name] = "not installed"
  return found


def record() -> Dict[str, object]:
  """The commit of this checkout (None outside a git checkout), whether it had uncommitted
  changes, the UTC time and `versions()`."""
  status = _git("status", "--porcelain", "--untracked-files=no")
  return {"commit": _git("rev-parse", "HEAD"),
          "uncommitted_changes": None if status is None else bool(status),
          "utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
          **versions()}
