"""Rate-distortion curves: averaging per setting, CompressAI JSON, and BD rates.

A curve is the mean over images of every metric at each codec setting (the papers and
CompressAI average per quality setting, not per target rate). BD rates use the
`bjontegaard` package (Akima interpolation of log-rate against the metric, integrated
over the metric range both curves cover), always restricted to a bpp range first, and,
where rows of one table must be compared with each other, to a quality range they all
share (`shared_quality_range`).
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import warnings
from collections import OrderedDict
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import bjontegaard
import numpy as np

from compression_eval.errors import UserError
from compression_eval.fileio import atomic_write_text


@dataclasses.dataclass
class RDCurve:
  """Rate-distortion points of one codec, in CompressAI's result layout.

  `results` maps a key ("bpp", "psnr-rgb", "ms-ssim-rgb", "encoding_time", ...) to one
  value per point; every list has the same length. `provenance`, where recorded, says
  when and with which library versions the points were measured
  (`compression_eval.provenance.record`).
  """
  name: str
  description: str
  results: Dict[str, List[float]]
  provenance: Dict[str, object] = dataclasses.field(default_factory=dict)

  def __post_init__(self) -> None:
    lengths = {len(values) for values in self.results.values()}
    if len(lengths) > 1:
      raise ValueError(f"curve {self.name!r} has lists of different lengths: {lengths}")
    if "bpp" not in self.results:
      raise ValueError(f"curve {self.name!r} has no 'bpp'")

  def points(self, metric: str) -> Tuple[np.ndarray, np.ndarray]:
    """(bpp, metric) arrays, sorted by bpp."""
    if metric not in self.results:
      raise KeyError(f"curve {self.name!r} has no {metric!r}; it has {sorted(self.results)}")
    bpp = np.asarray(self.results["bpp"], dtype=np.float64)
    values = np.asarray(self.results[metric], dtype=np.float64)
    order = np.argsort(bpp, kind="stable")
    return bpp[order], values[order]

  def to_json(self) -> dict:
    provenance = {"provenance": self.provenance} if self.provenance else {}
    return {"name": self.name, "description": self.description, **provenance,
            "results": self.results}


def codec_key(name: str) -> str:
  """The codec a curve's name refers to, to pair ours with a published curve.

  "JPEG (4:2:0)" and "jpeg" both give "jpeg"; "JPEG2000" gives "jpeg2000".
  """
  return name.lower().split()[0] if name.strip() else ""


def average_by_setting(name: str, description: str,
                       records: Iterable[Mapping[str, float]]) -> RDCurve:
  """Averages per-image records over images, one point per distinct `setting`.

  Each record holds a "setting" and numeric keys (bpp, metrics, times). Settings keep the
  order in which they first appear. Infinite PSNRs (lossless images) are averaged as
  they are, so a setting that is lossless on any image reports inf rather than a
  misleading finite number.
  """
  groups: "OrderedDict[object, List[Mapping[str, float]]]" = OrderedDict()
  for record in records:
    groups.setdefault(record["setting"], []).append(record)
  if not groups:
    raise ValueError(f"no records to average for {name!r}")
  keys = [key for key in next(iter(groups.values()))[0] if key != "setting"]
  results: Dict[str, List[float]] = {"setting": list(groups)}
  for key in keys:
    results[key] = [float(np.mean([record[key] for record in group])) for group in groups.values()]
  return RDCurve(name, description, results)


def join_points(name: str, description: str, curves: Sequence[RDCurve]) -> RDCurve:
  """One curve from the points of several: a codec that trains one model per rate.

  DeepSIC gives one point per model; its rate-distortion curve joins them, each point's
  setting naming the curve it came from.
  """
  keys = [key for key in curves[0].results
          if key != "setting" and all(key in c.results for c in curves)]
  results: Dict[str, list] = {"setting": [], **{key: [] for key in keys}}
  for curve in curves:
    results["setting"] += [curve.name] * len(curve.results["bpp"])
    for key in keys:
      results[key] += list(curve.results[key])
  return RDCurve(name, description, results)


def write_json(curve: RDCurve, path: str | os.PathLike) -> None:
  atomic_write_text(path, json.dumps(curve.to_json(), indent=2, allow_nan=True) + "\n")


def read_json(path: str | os.PathLike) -> RDCurve:
  """Reads a curve in CompressAI's JSON layout, or raises `UserError`."""
  try:
    with open(path, encoding="utf-8") as handle:
      data = json.load(handle)
    return RDCurve(str(data["name"]), str(data.get("description", "")),
                   {key: list(values) for key, values in data["results"].items()},
                   dict(data.get("provenance", {})))
  except FileNotFoundError:
    raise UserError(f"results file not found: {path}") from None
  except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
    raise UserError(f"{path} is not a CompressAI-style results file ({error})") from None


def _log_interp(x: float, bpp: np.ndarray, values: np.ndarray) -> float:
  """The metric at rate x, interpolating linearly in log-rate between neighbours."""
  return float(np.interp(math.log(x), np.log(bpp), values))


def value_at(curve: RDCurve, metric: str, bpp: float) -> float:
  """The curve's `metric` at rate `bpp` (log-rate interpolation); NaN outside its rates."""
  rates, values = monotone(*curve.points(metric))
  if not rates.min() <= bpp <= rates.max():
    return math.nan
  return _log_interp(bpp, rates, values)


def restrict_to_rate(bpp: np.ndarray, values: np.ndarray,
                     bpp_range: Tuple[float, float]) -> Tuple[np.ndarray, np.ndarray]:
  """The part of a curve inside [low, high] bpp, with interpolated end points.

  A curve that extends past a bound gets a point at the bound itself (log-rate linear
  interpolation between its neighbours), so that every codec is judged over the same
  rates rather than over whichever settings happen to fall inside.
  """
  low, high = bpp_range
  inside = (bpp >= low) & (bpp <= high)
  x, y = list(bpp[inside]), list(values[inside])
  if low > 0 and bpp.min() < low < bpp.max() and low not in x:
    x.insert(0, low)
    y.insert(0, _log_interp(low, bpp, values))
  if bpp.min() < high < bpp.max() and high not in x:
    x.append(high)
    y.append(_log_interp(high, bpp, values))
  return np.asarray(x), np.asarray(y)


def monotone(bpp: np.ndarray, values: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
  """Drops points that do not improve on a cheaper point.

  BD rate interpolates rate as a function of quality, which needs quality to rise
  strictly with rate; a setting that spends more bits for no gain is dominated anyway.
  """
  keep_x, keep_y = [], []
  for x, y in zip(bpp, values):
    if not keep_y or y > keep_y[-1]:
      keep_x.append(x)
      keep_y.append(y)
  return np.asarray(keep_x), np.asarray(keep_y)


def restrict_to_quality(bpp: np.ndarray, values: np.ndarray,
                        quality_range: Tuple[float, float]) -> Tuple[np.ndarray, np.ndarray]:
  """The part of a monotone curve inside [low, high] quality, with interpolated end points.

  The end points are the rates at which the curve reaches each bound (linear in log-rate
  between its neighbours, as `restrict_to_rate`); a curve that does not reach a bound
  keeps its own end there.
  """
  if len(values) < 2:
    return bpp, values
  low, high = quality_range
  inside = (values >= low) & (values <= high)
  x, y = list(bpp[inside]), list(values[inside])

  def rate_at(quality: float) -> float:
    return float(np.exp(np.interp(quality, values, np.log(bpp))))

  if values.min() < low < values.max() and low not in y:
    x.insert(0, rate_at(low))
    y.insert(0, low)
  if values.min() < high < values.max() and high not in y:
    x.append(rate_at(high))
    y.append(high)
  return np.asarray(x), np.asarray(y)


def _prepared(bpp: Sequence[float], values: Sequence[float],
              bpp_range: Tuple[float, float]) -> Tuple[np.ndarray, np.ndarray]:
  """A curve sorted by rate, without non-finite or zero-rate points, inside `bpp_range`,
  monotone."""
  bpp = np.asarray(bpp, dtype=np.float64)
  values = np.asarray(values, dtype=np.float64)
  order = np.argsort(bpp, kind="stable")
  finite = np.isfinite(values[order]) & (bpp[order] > 0)
  return monotone(*restrict_to_rate(bpp[order][finite], values[order][finite], bpp_range))


def shared_quality_range(curves: Iterable[Tuple[Sequence[float], Sequence[float]]],
                         bpp_range: Tuple[float, float] = (0.0, math.inf)
                         ) -> Tuple[float, float]:
  """The quality interval that every (bpp, metric) curve covers inside `bpp_range`.

  BD rates against one anchor are averages over the quality range each test curve
  shares with it, so two rows of a table are averages over different ranges when the
  rows start or end at different qualities (IR2I's first file holds two stages, R2I's
  one). Restricted to this interval, every row is averaged over the same qualities and
  the rows compare with each other. Curves with fewer than two points inside `bpp_range`
  have no range and are left out (NaN, NaN when none is left); low is above high when
  the curves share no quality.
  """
  prepared = [curve for curve in (_prepared(bpp, values, bpp_range) for bpp, values in curves)
              if len(curve[0]) >= 2]
  if not prepared:
    return math.nan, math.nan
  return (max(float(values.min()) for _, values in prepared),
          min(float(values.max()) for _, values in prepared))


def bd_rate(anchor: Tuple[Sequence[float], Sequence[float]],
            test: Tuple[Sequence[float], Sequence[float]],
            bpp_range: Tuple[float, float] = (0.0, math.inf),
            method: str = "akima",
            quality_range: Optional[Tuple[float, float]] = None) -> float:
  """Average rate difference (%) of `test` against `anchor` at equal quality.

  Each argument is (bpp, metric). Negative means `test` needs fewer bits. With
  `quality_range`, the average runs over that quality interval only (see
  `shared_quality_range`). Returns NaN when the curves, restricted to `bpp_range` (and
  `quality_range`), have fewer than two points each or do not overlap in quality.
  """
  curves = [_prepared(bpp, values, bpp_range) for bpp, values in (anchor, test)]
  if quality_range is not None:
    if not quality_range[0] < quality_range[1]:  # also when either bound is NaN
      return math.nan
    curves = [restrict_to_quality(x, y, quality_range) for x, y in curves]
  (rate_a, dist_a), (rate_t, dist_t) = curves
  if min(len(rate_a), len(rate_t)) < 2:
    return math.nan
  if min(dist_a.max(), dist_t.max()) <= max(dist_a.min(), dist_t.min()):
    return math.nan
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    return float(bjontegaard.bd_rate(rate_a, dist_a, rate_t, dist_t, method=method,
                                     require_matching_points=False, min_overlap=0))


def curve_bd_rate(anchor: RDCurve, test: RDCurve, metric: str,
                  bpp_range: Tuple[float, float] = (0.0, math.inf),
                  quality_range: Optional[Tuple[float, float]] = None) -> float:
  """`bd_rate` between two curves on one metric."""
  return bd_rate(anchor.points(metric), test.points(metric), bpp_range,
                 quality_range=quality_range)


def metric_gap(curve: RDCurve, reference: RDCurve, metric: str,
               reference_metric: str | None = None) -> Tuple[float, float, int]:
  """How far `curve` lies from `reference` at matching bpp.

  Returns (mean of curve minus reference, largest absolute difference, points compared).

  The reference is interpolated (linear in log-rate) at each of the curve's points that
  fall inside the reference's bpp range; that is how we check our own JPEG run against
  a published one.
  """
  bpp, values = curve.points(metric)
  ref_bpp, ref_values = reference.points(reference_metric or metric)
  inside = (bpp >= ref_bpp.min()) & (bpp <= ref_bpp.max())
  if not inside.any():
    return math.nan, math.nan, 0
  expected = np.interp(np.log(bpp[inside]), np.log(ref_bpp), ref_values)
  gaps = values[inside] - expected
  return float(gaps.mean()), float(np.abs(gaps).max()), int(inside.sum())
