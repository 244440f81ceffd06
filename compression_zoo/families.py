"""The model families, and the one place that chooses between them.

Everything above the model packages that must tell DeepSIC from R2I (the zoo, the codec
registry, the export script) asks here: by the family's name, or by what a model
folder's config.json holds.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict

from compression_eval.errors import UserError
from compression_eval.family import Family
from deepsic_tf.family import FAMILY as DEEPSIC
from r2i_tf.family import FAMILY as R2I

FAMILIES: Dict[str, Family] = {family.name: family for family in (DEEPSIC, R2I)}


def by_name(name: str) -> Family:
  return FAMILIES[name]


def of_folder(folder: Path) -> Family:
  """The family whose model a folder holds (config.json and weights).

  Raises:
    UserError: no config there, or one no family reads.
  """
  try:
    config = (folder / "config.json").read_text()
  except FileNotFoundError:
    raise UserError(f"no trained model in {folder} (expected config.json and weights)") from None
  except OSError as error:
    raise UserError(f"cannot read {folder}/config.json ({error.strerror})") from None
  for family in FAMILIES.values():
    if family.owns(config):
      return family
  raise UserError(f"{folder}/config.json is not the config of a "
                  f"{' or '.join(family.title for family in FAMILIES.values())} model")
