"""Building tensorflow-datasets datasets with one-line errors and no network surprises.

Two tfds behaviours get in the way of "fail in seconds, say what to do": constructing a
builder for an unprepared dataset asks gs://tfds-data for precomputed metadata (seconds
of retries offline, longer behind a broken resolver), and a download without network
fails only after retries. None of the datasets here is ever read from that bucket, so
the lookup is switched off, and downloads are preceded by a bounded reachability probe.
"""
from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator

import tensorflow_datasets as tfds
from tensorflow_datasets.core.download import download_manager
from tensorflow_datasets.core.utils import gcs_utils

from compression_eval.datasets.network import require_network
from compression_eval.errors import UserError
from compression_eval.fileio import ensure_dir


@contextlib.contextmanager
def _gcs_lookups_disabled() -> Iterator[None]:
  """Temporarily stops tfds from querying gs://tfds-data (it has no public switch)."""
  previous = gcs_utils._is_gcs_disabled  # pylint: disable=protected-access
  gcs_utils._is_gcs_disabled = True  # pylint: disable=protected-access
  try:
    yield
  finally:
    gcs_utils._is_gcs_disabled = previous  # pylint: disable=protected-access


def make_builder(
    name_or_class: str | type[tfds.core.DatasetBuilder], data_dir: str | os.PathLike | None
) -> tfds.core.DatasetBuilder:
  """A builder storing its data under `data_dir` (None: tfds' per-user default folder).

  The default is `$TFDS_DATA_DIR` or `~/tensorflow_datasets`, so prepared datasets are
  shared across runs and projects like any other tfds dataset.
  """
  data_dir = os.fspath(data_dir) if data_dir is not None else None
  with _gcs_lookups_disabled():
    if isinstance(name_or_class, str):
      return tfds.builder(name_or_class, data_dir=data_dir)
    return name_or_class(data_dir=data_dir)


def prepare(
    builder: tfds.core.DatasetBuilder,
    *,
    manual_dir: str | os.PathLike | None = None,
    download_url: str | None = None,
    offline_hint: str = "",
) -> None:
  """Downloads and prepares `builder` unless that was done before.

  Args:
    builder: from `make_builder`.
    manual_dir: folder of source files the builder reads instead of downloading.
    download_url: a URL the build downloads from; when given it is probed first, so that
      an offline machine fails at once with `offline_hint` instead of inside tfds.
    offline_hint: what the user should do instead of downloading (flag and path).
  """
  if builder.is_prepared():
    return
  ensure_dir(builder.data_dir_root)
  if download_url is not None:
    require_network(download_url, offline_hint)
  config = tfds.download.DownloadConfig(
      manual_dir=os.fspath(manual_dir) if manual_dir is not None else None,
      force_checksums_validation=True,
  )
  try:
    # tfds announces builds with print(); keep stdout for the caller's results.
    with _gcs_lookups_disabled(), contextlib.redirect_stdout(sys.stderr):
      builder.download_and_prepare(download_config=config)
  except download_manager.NonMatchingChecksumError as error:
    # tfds' message starts "Artifact URL, downloaded to PATH, has wrong checksum:".
    raise UserError(str(error).splitlines()[0].rstrip(":")) from None
