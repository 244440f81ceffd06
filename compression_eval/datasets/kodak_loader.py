"""The Kodak test set as arrays, built once through the tfds builder and then cached.

Evaluation always goes through the builder, whether the PNGs come from a local folder
or from the web, so every run scores exactly the checksummed files.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import tensorflow_datasets as tfds

from compression_eval.datasets import tfds_prepare
from compression_eval.datasets.kodak import KODAK_FILES, KODAK_URL, Kodak, missing_kodak_files
from compression_eval.errors import UserError

_FLAG_HINT = "pass --kodak-dir DIR, a folder of kodim01.png ... kodim24.png"


def _check_kodak_dir(kodak_dir: Path) -> None:
  """Raises `UserError` unless `kodak_dir` holds all 24 files, so none gets downloaded."""
  if not kodak_dir.is_dir():
    raise UserError(f"Kodak folder not found: {kodak_dir} ({_FLAG_HINT})")
  missing = missing_kodak_files(kodak_dir)
  if missing:
    raise UserError(
        f"Kodak folder {kodak_dir} lacks {len(missing)} of the 24 images: {', '.join(missing)}"
    )


def load_kodak(
    kodak_dir: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
) -> list[tuple[str, np.ndarray]]:
  """Returns the 24 Kodak images as ("kodim01", uint8 HxWx3 array) pairs, in name order.

  Args:
    kodak_dir: folder with kodim01.png ... kodim24.png to build from (read only, never
      written); None downloads them. Either way the files must match `checksums.tsv`.
    data_dir: where tfds stores the prepared dataset and any download; None means tfds'
      per-user default (`$TFDS_DATA_DIR` or ~/tensorflow_datasets). A dataset already
      prepared there is reused, without network and without reading `kodak_dir` again.

  Raises:
    UserError: `kodak_dir` is missing or incomplete, a file has the wrong checksum, or
      there is no network and no `kodak_dir`.
  """
  if kodak_dir is not None:
    kodak_dir = Path(kodak_dir)
    _check_kodak_dir(kodak_dir)
  builder = tfds_prepare.make_builder(Kodak, data_dir)
  tfds_prepare.prepare(
      builder,
      manual_dir=kodak_dir,
      download_url=None if kodak_dir is not None else KODAK_URL + KODAK_FILES[0],
      offline_hint=f"cannot download Kodak; {_FLAG_HINT}",
  )
  examples = tfds.as_numpy(builder.as_dataset(split="test"))
  images = [(Path(example["filename"].decode()).stem, example["image"]) for example in examples]
  return sorted(images, key=lambda pair: pair[0])
