"""Published Kodak rate-distortion points, to draw beside the project's own curves.

Two layouts are read: CompressAI's result JSON (all metrics in one file) and the text
files of the tensorflow/compression results folder (one metric per file, named by the
folder: `PSNR_sRGB_RGB/` or `MS-SSIM_sRGB_RGB/`, lines of "bpp, value").
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import List

from compression_eval.errors import UserError
from compression_eval.rd import RDCurve, read_json

_TFC_FOLDER_METRICS = {"PSNR_sRGB_RGB": "psnr-rgb", "MS-SSIM_sRGB_RGB": "ms-ssim-rgb"}


def _read_tfc_text(path: Path) -> RDCurve:
  metric = _TFC_FOLDER_METRICS.get(path.parent.name)
  if metric is None:
    raise UserError(f"{path}: a tensorflow-compression results file must sit in one of "
                    f"{', '.join(sorted(_TFC_FOLDER_METRICS))}")
  bpp, values, title = [], [], path.stem
  try:
    for line in path.read_text(encoding="utf-8").splitlines():
      line = line.strip()
      named = re.match(r'#.*data for "(.+)"', line)
      if named:
        title = named.group(1)
      if not line or line.startswith("#"):
        continue
      rate, value = (float(field) for field in line.split(","))
      bpp.append(rate)
      values.append(value)
  except (OSError, ValueError) as error:
    raise UserError(f"cannot read published curve {path}: {error}") from None
  if not bpp:
    raise UserError(f"published curve {path} has no points")
  return RDCurve(title, f"published ({path.parent.name}/{path.name})",
                 {"bpp": bpp, metric: values})


def load_published(path: str | os.PathLike) -> RDCurve:
  """Reads one published curve from a CompressAI JSON or a tfc results text file."""
  path = Path(path)
  if not path.is_file():
    raise UserError(f"published curve not found: {path}")
  if path.suffix == ".json":
    curve = read_json(path)
    curve.description = f"published: {curve.description}"
    return curve
  return _read_tfc_text(path)


def load_all(paths: List[str]) -> List[RDCurve]:
  return [load_published(path) for path in paths]
