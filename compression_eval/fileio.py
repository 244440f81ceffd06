"""Files: atomic writes (a killed writer leaves the old file or the new one, never half
of one), and reads and output checks that fail with one line."""
from __future__ import annotations

import contextlib
import ctypes
import io
import os
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Dict, Iterator, Sequence

import numpy as np

from compression_eval.errors import UserError


def ensure_dir(path: str | os.PathLike) -> Path:
  """Creates `path` (and parents) and checks it is writable, or raises `UserError`."""
  path = Path(path)
  try:
    path.mkdir(parents=True, exist_ok=True)
  except OSError as error:
    raise UserError(f"cannot create output folder {path}: {error.strerror}") from None
  if not os.access(path, os.W_OK | os.X_OK):
    raise UserError(f"output folder {path} is not writable")
  return path


def _current_umask() -> int:
  umask = os.umask(0)
  os.umask(umask)
  return umask


def _default_mode() -> int:
  """The mode `open()` would give a new file: 0o666 less the process umask."""
  return 0o666 & ~_current_umask()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
  """Writes `data` to a temporary file beside `path`, fsyncs it, then renames it over.

  The file gets the mode a plain `open()` would give it (mkstemp's 0o600 would make
  results unreadable to other users), or keeps the mode of the file it replaces.
  """
  path = Path(path)
  directory = path.parent if str(path.parent) else Path(".")
  try:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
  except OSError as error:
    raise UserError(f"cannot write {path}: {error.strerror}") from None
  try:
    mode = path.stat().st_mode & 0o7777 if path.exists() else _default_mode()
    os.chmod(tmp_name, mode)
    with os.fdopen(fd, "wb") as handle:
      handle.write(data)
      handle.flush()
      os.fsync(handle.fileno())
    os.replace(tmp_name, path)
  except OSError as error:
    Path(tmp_name).unlink(missing_ok=True)
    raise UserError(f"cannot write {path}: {error.strerror}") from None
  except BaseException:
    Path(tmp_name).unlink(missing_ok=True)
    raise
  return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
  """`atomic_write_bytes` for UTF-8 text."""
  return atomic_write_bytes(path, text.encode("utf-8"))


def _exchange(first: Path, second: Path) -> bool:
  """Swaps two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
  try:
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = libc.renameat2
  except (OSError, AttributeError):
    return False
  at_cwd, rename_exchange = -100, 2
  return renameat2(at_cwd, os.fsencode(first), at_cwd, os.fsencode(second),
                   rename_exchange) == 0


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
  """Yields a temporary folder beside `path` that replaces `path` when the block succeeds.

  For exports (SavedModels): a failed or killed export leaves the previous folder, or
  nothing, never a half-written one. The new folder and the old one are exchanged in
  one step where the system can (Linux); elsewhere by two renames, with a moment
  between them when `path` is missing.
  """
  path = Path(path)
  ensure_dir(path.parent if str(path.parent) else ".")
  staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
  try:
    yield staging
    staging.chmod(0o777 & ~_current_umask())
    if not path.exists():
      os.replace(staging, path)
    elif _exchange(staging, path):
      shutil.rmtree(staging, ignore_errors=True)  # now the old folder
    else:
      retired = path.with_name(f".{path.name}.old")
      shutil.rmtree(retired, ignore_errors=True)
      os.replace(path, retired)
      os.replace(staging, path)
      shutil.rmtree(retired, ignore_errors=True)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise


def read_bytes(path: str | os.PathLike) -> bytes:
  """A file's bytes, or a one-line `UserError` saying why it cannot be read."""
  try:
    return Path(path).read_bytes()
  except OSError as error:
    raise UserError(f"cannot read {path}: {error.strerror}") from None


def check_writable(path: str | os.PathLike) -> None:
  """Fails before any slow work if `path` could never be written."""
  folder = Path(path).resolve().parent
  if not folder.is_dir():
    raise UserError(f"cannot write {path}: folder {folder} does not exist")
  if not os.access(folder, os.W_OK):
    raise UserError(f"cannot write {path}: folder {folder} is not writable")


def write_arrays(path: str | os.PathLike, arrays: Dict[str, np.ndarray]) -> Path:
  """Arrays to a compressed .npz, atomically."""
  buffer = io.BytesIO()
  np.savez_compressed(buffer, **arrays)
  return atomic_write_bytes(path, buffer.getvalue())


def read_arrays(path: str | os.PathLike, names: Sequence[str], what: str) -> Dict[str, np.ndarray]:
  """The named arrays of an .npz (no pickles), or a one-line `UserError` calling the file
  not `what` when it is unreadable, damaged or lacks one."""
  try:
    with np.load(path, allow_pickle=False) as stored:
      return {name: stored[name] for name in names}
  except (OSError, KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile,
          zlib.error) as error:
    raise UserError(f"{path} is not {what} ({type(error).__name__})") from None
