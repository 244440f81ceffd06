"""Model configs saved as JSON with every model, and read back.

A config is a frozen dataclass whose `__post_init__` checks its fields and turns
sequences into tuples, so JSON's lists come back as the config that was saved. The
JSON text is also hashed into a model's id, so it is written one way only: the
dataclass' fields, keys sorted.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Type, TypeVar

Config = TypeVar("Config", bound="JsonConfig")


class JsonConfig:
  """Mixin for a frozen dataclass config: `to_json` and `from_json`, inverse of each other."""

  def to_json(self) -> str:
    return json.dumps(dataclasses.asdict(self), sort_keys=True)

  @classmethod
  def from_json(cls: Type[Config], text: str) -> Config:
    """Raises ValueError (bad JSON or field value), TypeError (other fields) or KeyError."""
    return cls(**json.loads(text))
