"""Markdown tables of rate-distortion results: per-setting points and BD rates."""
from __future__ import annotations

import math
from typing import List, Sequence, Tuple

from compression_eval.metrics import ms_ssim_db
from compression_eval.rd import RDCurve, codec_key, curve_bd_rate, metric_gap

BD_METRICS = ("ms-ssim-rgb", "ssim-rgb", "psnr-rgb", "ms-ssim-y", "psnr-y")


def _number(value: float, digits: int) -> str:
  return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def points_table(curve: RDCurve) -> str:
  """One row per setting: bpp, PSNR, MS-SSIM (raw and dB), SSIM, luma, times."""
  header = ("| setting | bpp | PSNR RGB (dB) | MS-SSIM RGB | MS-SSIM RGB (dB) | SSIM RGB "
            "| PSNR Y (dB) | MS-SSIM Y | encode (ms) | decode (ms) |")
  rows = [header, "|" + "---|" * (header.count("|") - 1)]
  results = curve.results
  for i, bpp in enumerate(results["bpp"]):
    rows.append(
        f"| {results['setting'][i]} | {bpp:.4f} | {results['psnr-rgb'][i]:.2f} "
        f"| {results['ms-ssim-rgb'][i]:.4f} | {ms_ssim_db(results['ms-ssim-rgb'][i]):.2f} "
        f"| {results['ssim-rgb'][i]:.4f} | {results['psnr-y'][i]:.2f} "
        f"| {results['ms-ssim-y'][i]:.4f} | {1e3 * results['encoding_time'][i]:.1f} "
        f"| {1e3 * results['decoding_time'][i]:.1f} |")
  return "\n".join(rows)


def bd_table(anchor: RDCurve, curves: Sequence[RDCurve],
             bpp_range: Tuple[float, float]) -> str:
  """BD rate (%) of each curve against the anchor on every BD metric (negative saves bits)."""
  header = "| codec | " + " | ".join(f"BD rate {m} (%)" for m in BD_METRICS) + " |"
  rows = [header, "|---|" + "---|" * len(BD_METRICS)]
  for curve in curves:
    cells = [_number(curve_bd_rate(anchor, curve, metric, bpp_range), 2) for metric in BD_METRICS]
    rows.append(f"| {curve.name} | " + " | ".join(cells) + " |")
  return "\n".join(rows)


def published_agreement(curves: Sequence[RDCurve], published: Sequence[RDCurve]) -> List[str]:
  """Lines comparing our curves with published ones of the same codec, on PSNR RGB."""
  lines = []
  for curve in curves:
    for reference in published:
      if codec_key(reference.name) != codec_key(curve.name) or "psnr-rgb" not in reference.results:
        continue
      mean_gap, max_gap, count = metric_gap(curve, reference, "psnr-rgb")
      lines.append(f"- {curve.name} vs {reference.name} ({reference.description}): PSNR RGB, "
                   f"ours minus published at matching bpp, {_number(mean_gap, 3)} dB on average, "
                   f"{_number(max_gap, 3)} dB at most (absolute), over {count} of our points.")
  return lines


def rd_report(curves: Sequence[RDCurve], anchor_names: Sequence[str],
              bpp_range: Tuple[float, float], num_images: int,
              published: Sequence[RDCurve] = (), image_set: str = "Kodak") -> str:
  """The whole Markdown report of one evaluation run on `image_set` (Kodak or a folder of
  the user's): a BD table per anchor, then each curve's points."""
  parts = [f"# {image_set} rate-distortion ({num_images} images)", ""]
  low, high = bpp_range
  for anchor_name in anchor_names:
    anchor = next((curve for curve in curves if curve.name == anchor_name), None)
    if anchor is None:
      parts += [f"No BD rates vs {anchor_name!r}: that codec was not evaluated.", ""]
    else:
      parts += [f"## BD rate vs {anchor_name}, {low:g}-{high:g} bpp", "",
                bd_table(anchor, [c for c in curves if c is not anchor], bpp_range), ""]
  agreement = published_agreement(curves, published)
  if agreement:
    parts += ["## Agreement with published curves", "", *agreement, ""]
  for curve in curves:
    parts += [f"## {curve.name}", "", curve.description, "", points_table(curve), ""]
  return "\n".join(parts)
