"""The small interface every model family gives the layers above it.

`deepsic_tf` and `r2i_tf` each build one `Family` (in their `family` module); the zoo,
the codec registry, the export script and the codec command lines reach a model only
through it, so that choosing between the families is written once (in
`compression_zoo.families`) and this package never imports a model. Every callable
imports its package's TensorFlow code only when it is called (`lazy`): building a
`Family` (to list models, or to refuse a bad command line) loads no TensorFlow.
"""
from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from typing import Any, Callable, List, Mapping, Optional

from compression_eval.codecs import Codec

Model = Any  # a family's trained Keras model; the base knows none of them


def lazy(target: str) -> Callable[..., Any]:
  """The function (or class) `package.module:name` of a family, imported at its first call."""
  module, _, name = target.partition(":")

  def call(*args: Any, **kwargs: Any) -> Any:
    return getattr(importlib.import_module(module), name)(*args, **kwargs)

  call.__qualname__ = target
  return call


@dataclasses.dataclass(frozen=True)
class Family:
  """One model family: its names, files and presets, and how to load, export and evaluate it.

  Attributes:
    name: "deepsic" or "r2i": the zoo's trainer key and the console script.
    title: the family in messages ("DeepSIC").
    package: the Python package (`python -m PACKAGE` is its codec command line).
    extension: its files' extension (".dsic").
    magic: the first bytes of its files (`compression_eval.file_header`).
    train_script: its training script, relative to the checkout.
    presets: its `--preset` choices by name (widths and training settings together).
    not_a_codec: given a model folder's config.json text, None for a model with a
      codec, else what the model is ("the uncompressed reference classifier, which has
      no codec to export"); raises ValueError for a config of another family.
    load_model: the trained model in a model folder (a run's model/ or a shipped one).
    export_codec: writes a model's codec SavedModel into a folder.
    export: writes everything `export_savedmodel.py` promises into an output folder
      (the codec, and a serving model where it is another); returns a line per export.
    model_id: the id a model writes into its files.
    evaluation_codecs: codec spec names (`NAME:PATH` in evaluate_kodak.py) -> the
      factory that evaluates a codec SavedModel at PATH; the one under the family's
      `name` evaluates its shipped models.
  """
  name: str
  title: str
  package: str
  extension: str
  magic: bytes
  train_script: str
  presets: Mapping[str, Any]
  not_a_codec: Callable[[str], Optional[str]]
  load_model: Callable[[Path], Model]
  export_codec: Callable[[Model, Path], Any]
  export: Callable[[Model, Path], List[str]]
  model_id: Callable[[Model], int]
  evaluation_codecs: Mapping[str, Callable[[str], Codec]]

  def owns(self, config_text: str) -> bool:
    """Whether a model folder's config.json is one of this family's models."""
    try:
      self.not_a_codec(config_text)
    except (ValueError, TypeError, KeyError):
      return False
    return True

  def has_codec(self, config_text: str) -> bool:
    """Whether a model folder's config.json is one of this family's codecs."""
    return self.owns(config_text) and self.not_a_codec(config_text) is None
