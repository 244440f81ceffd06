"""Codecs exported from model folders once, and kept while the folder does not change.

Exporting a codec SavedModel from a shipped model's weights takes tens of seconds; the
command lines, the Kodak evaluation and the table reproduction each need it, again and
again. The export goes to `ROOT/NAME/codec` beside a stamp of what it was made from
(the folder's config and weights, and `EXPORT_LAYOUT`), so a later call finds it
current, and a changed model or export code makes it again. The id the model writes
into its files is kept too (`ROOT/ids/NAME`), so that a file's model can be found
without loading every model.
"""
from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Optional

from compression_eval import shipped
from compression_eval.family import Family
from compression_eval.fileio import atomic_directory, atomic_write_text, ensure_dir
from compression_eval.progress import progress

# Raised whenever the exported graphs change (4: DeepSIC in tiles; 5: DeepSIC's codes and
# decode_codes signatures, for context coding; 6: inpainters computing only what the block
# reads, same bits, less time), so that older exports are redone.
EXPORT_LAYOUT = 6


def fingerprint(folder: Path) -> str:
  """What a shipped model's exports depend on: its config, weights and the export layout."""
  digest = hashlib.sha256(str(EXPORT_LAYOUT).encode())
  for name in ("config.json", shipped.WEIGHTS_FILE):
    digest.update((folder / name).read_bytes())
  return digest.hexdigest()


def _current(stamp: Path, value: str) -> bool:
  return stamp.is_file() and stamp.read_text().split()[:1] == [value]


def _remember_id(root: Path, name: str, stamp: str, model_id: int) -> int:
  atomic_write_text(ensure_dir(root / "ids") / name, f"{stamp} {model_id}\n")
  return model_id


def cached_codec(family: Family, name: str, folder: Path, root: Path,
                 announce: bool = False) -> Path:
  """The codec SavedModel of the model in `folder`, exported into ROOT/NAME/codec once.

  `announce` shows progress while an export runs (a user waits on it).
  """
  target, current = root / name, fingerprint(folder)
  if _current(target / "fingerprint", current) and (target / "codec").is_dir():
    return target / "codec"
  shown = (progress(f"{name}: exporting its codec once, into {target}") if announce
           else contextlib.nullcontext())
  with shown:
    model = family.load_model(folder)
    with atomic_directory(target) as staging:
      family.export_codec(model, staging / "codec")
      (staging / "fingerprint").write_text(current)
    _remember_id(root, name, current, family.model_id(model))
  return target / "codec"


def known_model_id(name: str, folder: Path, root: Path) -> Optional[int]:
  """The id of the model in `folder` if an earlier export or lookup recorded it."""
  stamp = root / "ids" / name
  if not _current(stamp, fingerprint(folder)):
    return None
  return int(stamp.read_text().split()[1])


def model_id(family: Family, name: str, folder: Path, root: Path) -> int:
  """The id of the model in `folder`: recorded, or computed (loading it) and recorded."""
  known = known_model_id(name, folder, root)
  if known is not None:
    return known
  return _remember_id(root, name, fingerprint(folder),
                      family.model_id(family.load_model(folder)))
