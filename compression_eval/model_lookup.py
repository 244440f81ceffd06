"""What a command line's `--model` names, as a codec SavedModel; and, without `--model`,
which shipped model wrote a file.

`--model` takes a shipped model's name (`deepsic-post-q2`, `r2i-decoding`: the folders
of `locations.shipped_models()`), a shipped model's folder, or a codec SavedModel (a
run's `codec/`, or the run folder itself). A shipped model is used directly: its codec
is exported once into the cache (`compression_eval.export_cache`, under
`locations.cache()`), with progress shown while that runs. A file names its model by
the id in its first bytes (`compression_eval.file_header`); the ids of the shipped
models are recorded in the cache as they are exported or looked up.
"""
from __future__ import annotations

from pathlib import Path
from typing import List

from compression_eval import catalogue, export_cache, file_header, locations, shipped
from compression_eval.errors import UserError
from compression_eval.family import Family
from compression_eval.progress import progress


def exports() -> Path:
  """The cache folder of codecs exported from shipped models."""
  return locations.cache() / "exports"


def shipped_codecs(family: Family) -> List[str]:
  """The names of the family's shipped models that have a codec."""
  return [name for name in catalogue.names()
          if family.has_codec(catalogue.config_text(name))]


def _shipped_codec(family: Family, name: str, folder: Path) -> Path:
  config = (folder / "config.json").read_text()
  if not family.has_codec(config):
    raise UserError(f"{name} is not one of {family.title}'s codecs (see python -m "
                    f"{family.package} models)")
  return export_cache.cached_codec(family, name, folder, exports(), announce=True)


def codec_folder(family: Family, model: str) -> Path:
  """The codec SavedModel `--model` names (see the module's docstring).

  A path that holds none is returned as it is, for the codec's loader to refuse.
  """
  path = Path(model)
  if (path / "codec" / "saved_model.pb").is_file():
    return path / "codec"
  if (path / shipped.WEIGHTS_FILE).is_file() and (path / "config.json").is_file():
    inside = path.resolve().parent == locations.shipped_models().resolve()
    key = path.name if inside else f"{path.name}-{export_cache.fingerprint(path)[:12]}"
    return _shipped_codec(family, key, path)
  if path.exists() or "/" in model:
    return path
  if model not in catalogue.names():
    known = ", ".join(shipped_codecs(family))
    raise UserError(f"no model named {model!r}: give a codec folder or a shipped name "
                    f"({known or 'none shipped'}; python -m {family.package} models)")
  return _shipped_codec(family, model, catalogue.folder(model))


def beside_weights(model: str, folder: Path, file_name: str) -> Path:
  """Where a table made for `model` goes (R2I's bit model, DeepSIC's context tables):
  beside the shipped model's weights if `model` names one, else in its codec `folder`."""
  shipped_folder = locations.shipped_models() / model
  return (shipped_folder if (shipped_folder / "config.json").is_file() else folder) / file_name


def codec_of_file(family: Family, data: bytes, path: str) -> Path:
  """The codec SavedModel of the shipped model that wrote `data` (the file at `path`).

  Recorded ids are checked first; the other shipped models are then loaded one by one
  to compute theirs.
  """
  prefix = file_header.read_prefix(data)
  if prefix is None or prefix.magic != family.magic:
    raise UserError(f"{path} is not a {family.extension} file")
  candidates, root = shipped_codecs(family), exports()
  unknown = []
  for name in candidates:
    known = export_cache.known_model_id(name, catalogue.folder(name), root)
    if known == prefix.model_id:
      return _shipped_codec(family, name, catalogue.folder(name))
    if known is None:
      unknown.append(name)
  with progress(f"looking for the model that wrote {path} among {len(unknown)} shipped "
                f"{family.title} models"):
    found = next((name for name in unknown if export_cache.model_id(
        family, name, catalogue.folder(name), root) == prefix.model_id), None)
  if found is None:
    raise UserError(f"no shipped {family.title} model wrote {path} (model id "
                    f"{prefix.model_id:08x}): give the codec that did with --model")
  return _shipped_codec(family, found, catalogue.folder(found))
