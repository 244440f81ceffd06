"""The shipped models by name: which there are, what each is, and what it measured on Kodak.

A shipped model is a folder of `locations.shipped_models()` holding a config and weights
(`compression_eval.shipped`) and a README whose first paragraph says what it is. Its
Kodak figures are those the report measured (`reports/results.json`, written by
`reproduce_tables.py`: every shipped codec on every Kodak image, per setting). Reading
them needs no TensorFlow, so listing the models is instant.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from compression_eval import locations, shipped


def folder(name: str) -> Path:
  return locations.shipped_models() / name


def names() -> List[str]:
  """Every shipped model, by name."""
  root = locations.shipped_models()
  if not root.is_dir():
    return []
  return sorted(path.name for path in root.iterdir() if (path / shipped.WEIGHTS_FILE).is_file())


def config_text(name: str) -> str:
  return (folder(name) / "config.json").read_text()


def role(name: str) -> str:
  """What a shipped model is and which of the papers' tables it fills: its README's first
  paragraph."""
  readme = folder(name) / "README.md"
  paragraphs = readme.read_text().split("\n\n") if readme.is_file() else []
  return " ".join(paragraphs[1].split()).rstrip(".") if len(paragraphs) > 1 else ""


@dataclasses.dataclass(frozen=True)
class KodakFigures:
  """A shipped codec's mean Kodak rate and PSNR at each of its settings (R2I: stages)."""
  bpp: Tuple[float, ...]
  psnr: Tuple[float, ...]


def kodak_figures(results: Path = locations.REPORTS / "results.json"
                  ) -> Dict[str, KodakFigures]:
  """Each shipped codec's figures as the report measured them, by name ({} without one)."""
  if not results.is_file():
    return {}
  figures = {}
  for name, images in json.loads(results.read_text()).get("per_image", {}).items():
    rows = list(images.values())
    if not rows:
      continue
    means = [[sum(image[setting][key] for image in rows) / len(rows)
              for setting in range(len(rows[0]))] for key in ("bpp", "psnr-rgb")]
    figures[name] = KodakFigures(tuple(means[0]), tuple(means[1]))
  return figures


def _span(values: Tuple[float, ...], digits: int) -> str:
  return (f"{values[0]:.{digits}f}" if len(values) == 1 else
          f"{values[0]:.{digits}f}-{values[-1]:.{digits}f}")


def listing(chosen: List[str], figures: Optional[Dict[str, KodakFigures]] = None) -> str:
  """A table of shipped models: name, Kodak bpp and PSNR (a range over settings), role."""
  figures = kodak_figures() if figures is None else figures
  rows = [("model", "Kodak bpp", "Kodak PSNR (dB)", "what it is, and its paper table")]
  for name in chosen:
    measured = figures.get(name)
    rows.append((name, _span(measured.bpp, 3) if measured else "not measured",
                 _span(measured.psnr, 2) if measured else "", role(name)))
  widths = [max(len(row[column]) for row in rows) for column in range(3)]
  return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  "
                   + row[3] for row in rows)
