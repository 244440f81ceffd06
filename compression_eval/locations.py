"""Where the project's files live: the checkout, the shared data beside it, the shipped
models, the report and the cache of exported codecs.

One module names them, so that a model package, the zoo and the scripts agree on where a
shipped model or its cached export is. Two environment variables move what a user may
want elsewhere: `COMPRESSION_MODELS` (the shipped models' folder) and
`COMPRESSION_CACHE` (codecs exported from them, by default under `~/.cache`).
"""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The read-only data and the papers' tables, beside a checkout (../shared).
SHARED = REPO.parent / "shared"
REPORTS = REPO / "reports"


def shipped_models() -> Path:
  """The folder of shipped models, `saved_models/` of the checkout unless
  `COMPRESSION_MODELS` names another."""
  return Path(os.environ.get("COMPRESSION_MODELS") or REPO / "saved_models")


def shipped_model_folders() -> list[Path]:
  """Every shipped model's folder, in name order: where a codec's side tables (R2I's bit
  models, DeepSIC's context tables) are looked for by the model id they were made for."""
  return sorted(path for path in shipped_models().glob("*") if path.is_dir())


def cache() -> Path:
  """Where codecs exported from shipped models are kept between runs:
  `COMPRESSION_CACHE`, else `$XDG_CACHE_HOME/semantic-inpainting-compression`
  (`~/.cache/...`)."""
  if os.environ.get("COMPRESSION_CACHE"):
    return Path(os.environ["COMPRESSION_CACHE"])
  base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
  return Path(base) / "semantic-inpainting-compression"
