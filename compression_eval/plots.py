"""Plots with matplotlib, written atomically as PNG: rate-distortion curves, learning
curves, curves side by side in panels, and labelled image crops in a grid.

MS-SSIM is drawn in dB, -10 log10(1 - MS-SSIM), because near 1 the raw values crowd
together; PSNR is drawn as it is. Published curves are dashed so they never pass for
the project's own measurements.
"""
from __future__ import annotations

import io
import os
from typing import Mapping, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=wrong-import-position
import numpy as np

from compression_eval.fileio import atomic_write_bytes
from compression_eval.rd import RDCurve, codec_key

_LABELS = {
    "psnr": "PSNR (dB)",
    "ms-ssim": "MS-SSIM (dB)",
    "ssim": "SSIM",
}


def _save(figure: "matplotlib.figure.Figure", path: str | os.PathLike) -> None:
  """Lays `figure` out, writes it to `path` as PNG (atomically) and closes it."""
  figure.tight_layout()
  buffer = io.BytesIO()
  figure.savefig(buffer, format="png")
  plt.close(figure)
  atomic_write_bytes(path, buffer.getvalue())


def _axis_values(metric: str, values: np.ndarray) -> np.ndarray:
  if metric.startswith("ms-ssim"):
    with np.errstate(divide="ignore"):
      return -10.0 * np.log10(1.0 - values)
  return values


def plot_rd(curves: Sequence[RDCurve], metric: str, path: str | os.PathLike,
            published: Sequence[RDCurve] = (), title: str = "Kodak",
            max_bpp: float | None = 2.0) -> None:
  """Draws every curve that has `metric` (ours solid, published dashed) into `path`."""
  figure, axes = plt.subplots(figsize=(7, 5), dpi=120)
  colours = {}  # a published curve of the same codec takes the colour of ours
  for curves_group, style in ((curves, "-o"), (published, "--")):
    for curve in curves_group:
      if metric not in curve.results:
        continue
      bpp, values = curve.points(metric)
      keep = bpp <= max_bpp if max_bpp else np.ones_like(bpp, dtype=bool)
      label = curve.name if style == "-o" else f"{curve.name} (published)"
      codec = codec_key(curve.name)
      (line,) = axes.plot(bpp[keep], _axis_values(metric, values[keep]), style, label=label,
                          markersize=3, linewidth=1.3, color=colours.get(codec))
      colours.setdefault(codec, line.get_color())
  kind, _, channels = metric.rpartition("-")
  axes.set_xlabel("bits per pixel")
  axes.set_ylabel(f"{_LABELS.get(kind, kind)} on {'luma' if channels == 'y' else 'RGB'}")
  axes.set_title(f"{title}: {kind.upper()} vs rate")
  axes.grid(True, alpha=0.3)
  axes.legend(fontsize=8)
  _save(figure, path)


# What a learning curve shows, by the first series a run's history has: a codec's
# validation PSNR and bpp, or a classifier's top-1 and loss.
CURVES = ((("val_psnr", "validation PSNR (dB)"), ("val_bpp", "validation bpp")),
          (("val_top1", "validation top-1"), ("val_loss", "validation loss")))


def plot_learning_curve(history_csv: str | os.PathLike, path: str | os.PathLike,
                        steps_per_epoch: int, title: str) -> None:
  """Validation PSNR and bpp (or, for a classifier, top-1 and loss) against training
  steps, from a run's `history.csv` (one row per epoch, as `compression_eval.training`
  logs it), as a small PNG."""
  import csv  # pylint: disable=import-outside-toplevel
  with open(history_csv, newline="", encoding="utf-8") as handle:
    rows = list(csv.DictReader(handle))
  series = next((curve for curve in CURVES if rows and curve[0][0] in rows[0]), None)
  if series is None:
    raise ValueError(f"{history_csv} has no validation metrics to plot")
  (left_key, left_label), (right_key, right_label) = series
  steps = np.array([(int(row["epoch"]) + 1) * steps_per_epoch for row in rows])
  figure, psnr_axis = plt.subplots(figsize=(5, 3.2), dpi=100)
  psnr_axis.plot(steps, [float(row[left_key]) for row in rows], color="C0")
  psnr_axis.set_xlabel("training steps")
  psnr_axis.set_ylabel(left_label, color="C0")
  bpp_axis = psnr_axis.twinx()
  bpp_axis.plot(steps, [float(row[right_key]) for row in rows], color="C1")
  bpp_axis.set_ylabel(right_label, color="C1")
  psnr_axis.set_title(title, fontsize=9)
  psnr_axis.grid(True, alpha=0.3)
  _save(figure, path)


# A panel's curves: label -> (x values, y values).
Curves = Mapping[str, Tuple[Sequence[float], Sequence[float]]]


def plot_panels(panels: Sequence[Tuple[str, Curves]], path: str | os.PathLike, xlabel: str,
                ylabel: str, title: str) -> None:
  """Panels side by side, each with its title and its curves (the same labels in the same
  colours in every panel), each on its own y scale."""
  figure, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.2), dpi=110,
                              squeeze=False)
  for axis, (panel_title, curves) in zip(axes[0], panels):
    for colour, (label, (x, y)) in enumerate(curves.items()):
      axis.plot(x, y, label=label, color=f"C{colour}", linewidth=1.1)
    axis.set_title(panel_title, fontsize=9)
    axis.set_xlabel(xlabel)
    axis.grid(True, alpha=0.3)
  axes[0][0].set_ylabel(ylabel)
  axes[0][0].legend(fontsize=8)
  figure.suptitle(title, fontsize=10)
  _save(figure, path)


def plot_crops(rows: Sequence[Sequence[Tuple[str, np.ndarray]]], path: str | os.PathLike,
               title: str) -> None:
  """Image crops in a grid, a row per sequence, each under its label, drawn at about one
  screen pixel per image pixel (no smoothing), so that coding artefacts show as they are."""
  count = max(len(row) for row in rows)
  side = max(crop.shape[1] for row in rows for _, crop in row)
  dpi = 100
  figure, axes = plt.subplots(len(rows), count, squeeze=False, dpi=dpi,
                              figsize=(count * (side + 12) / dpi, len(rows) * (side + 64) / dpi))
  for axis in axes.flat:
    axis.axis("off")
  for row, axes_row in zip(rows, axes):
    for (label, crop), axis in zip(row, axes_row):
      axis.imshow(crop, interpolation="nearest")
      axis.set_title(label, fontsize=7.5)
  figure.suptitle(title, fontsize=9)
  _save(figure, path)
