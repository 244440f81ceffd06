"""Kodak quality against training compute: R2I decoding and DeepSIC post-q2 (issue 42).

  python benchmarks/scaling.py      # tables printed; docs/scaling.json and docs/scaling.png

Trains nothing. It
1. counts the FLOPs of one training step at the `cpu` widths, at twice them and at the
   `paper` preset with TensorFlow's graph profiler on the traced step: the forward pass in
   training mode and the gradients of every trained variable (Adam's update, a few FLOPs a
   parameter, is left out);
2. collects the Kodak measurements the repository holds, each with its source: R2I
   decoding's MS-SSIM RGB BD savings against our JPEG over 0-1 bpp (paper 2, Table 2's
   measure) and DeepSIC post-semantic Kodak PSNR-RGB at deepsic-post-q2's rate (paper 1's
   0.5 bpp point);
3. fits quality against log10 compute for every width with three budgets or more: a line,
   or a power law that levels off where an F-test supports its third parameter, and
   extrapolates it to the `paper` preset's compute with two intervals;
4. lists the study's runs with their commands, each costed in core-hours from the shipped
   runs' step times scaled by FLOPs, and measured where docs/scaling_runs/ holds what the
   run left (its summary.json, and for R2I its Kodak RD file), whose points join the fits.

Compute is a step's FLOPs times steps. Core-hours are wall hours times the cores a run
used (one thread, or the two cores of the machine that trained it).
"""
from __future__ import annotations

import dataclasses
import io
import itertools
import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import REPO, publish, table  # pylint: disable=wrong-import-position
from compression_eval import rd  # pylint: disable=wrong-import-position
from compression_eval.errors import ArgumentParser, UserError, run_cli  # pylint: disable=wrong-import-position
from deepsic_tf.presets import PRESETS as DEEPSIC  # pylint: disable=wrong-import-position
from r2i_tf.presets import PRESETS as R2I  # pylint: disable=wrong-import-position

TABLE_2_RANGE = (0.0, 1.0)  # paper 2, Table 2: BD rate against JPEG over 0-1 bpp
BUDGET_CORE_HOURS = 8.0  # issue 42's cap on new training
LEVEL = 0.95

# The widths: the presets', twice `cpu`'s, and those of points measured at others.
# DeepSIC's 128-channel code is deepsic-post-q2's rate point, not a width: it stays.
_DS_CPU = {**DEEPSIC["cpu"].widths, "bottleneck_channels": 128}
WIDTHS: Dict[str, Dict[str, Any]] = {
    "r2i/cpu": {"encoder_filters": R2I["cpu"].encoder_filters,
                "decoder_filters": R2I["cpu"].decoder_filters},
    "r2i/2x cpu": {"encoder_filters": tuple(2 * f for f in R2I["cpu"].encoder_filters),
                   "decoder_filters": tuple(2 * f for f in R2I["cpu"].decoder_filters)},
    "r2i/paper": {"encoder_filters": R2I["paper"].encoder_filters,
                  "decoder_filters": R2I["paper"].decoder_filters},
    "deepsic/cpu": _DS_CPU,
    "deepsic/cpu, 64-channel code": {**_DS_CPU, "bottleneck_channels": 64},
    "deepsic/2x cpu": {**_DS_CPU, **{key: 2 * _DS_CPU[key] for key in
                                     ("filters", "head_filters", "head_units")}},
    "deepsic/96 filters, cpu head": {**_DS_CPU, "filters": 96},
    "deepsic/paper": {**DEEPSIC["paper"].widths, "bottleneck_channels": 128},
}
# A step's (batch, crop, classes) at `cpu` and at `paper`, and the paper preset's steps.
STEP_SHAPES = {"r2i": (R2I["cpu"].schedules["r2i"].batch_size, 32, 0),
               "deepsic": (DEEPSIC["cpu"].batch_size, DEEPSIC["cpu"].patch_size, 10)}
PAPER_SHAPES = {"r2i": (R2I["paper"].schedules["r2i"].batch_size, 32, 0),
                "deepsic": (DEEPSIC["paper"].batch_size, DEEPSIC["paper"].patch_size, 1000)}
PAPER_STEPS = {"r2i": R2I["paper"].schedules["r2i"].steps, "deepsic": DEEPSIC["paper"].steps}


# ----------------------------------------------------------------------------- FLOPs

def graph_flops(function: Callable, *specs) -> int:
  """Float operations of `function`'s traced graph, as TensorFlow's profiler counts them:
  2 k^2 C_in C_out an output pixel for a convolution (an input pixel for a transposed
  one), 2mnk for a matmul, one an element for elementwise ops. It also counts the input
  gradient of a network's first layer, which the runtime prunes (a few % at most)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from tensorflow.python.profiler import model_analyzer, option_builder  # pylint: disable=import-outside-toplevel
  tf.get_logger().setLevel("ERROR")
  graph = tf.function(function).get_concrete_function(*specs).graph
  options = option_builder.ProfileOptionBuilder(
      option_builder.ProfileOptionBuilder.float_operation()).with_empty_output().build()
  return int(model_analyzer.profile(graph, options=options).total_float_ops)


def training_step(objective: Callable, variables: Callable[[], list]) -> Callable:
  """The forward pass of `objective` and its gradients: what a step computes before Adam."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  def step(*inputs):
    with tf.GradientTape() as tape:
      loss = objective(*inputs)
    return tape.gradient(loss, variables())
  return step


def step_flops(family: str, widths: Dict[str, Any], shape: Tuple[int, int, int]) -> int:
  """FLOPs of one training step of R2I decoding or post-semantic DeepSIC at `widths` on a
  batch of `shape` (batch, crop, classes)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  batch, crop, classes = shape
  images = tf.TensorSpec((batch, crop, crop, 3))
  if family == "r2i":
    from r2i_tf.config import R2IConfig  # pylint: disable=import-outside-toplevel
    from r2i_tf.models import R2I as Coder  # pylint: disable=import-outside-toplevel
    coder = Coder(R2IConfig("decoding", **widths))
    coder.build_variables()
    return graph_flops(training_step(lambda x: coder._objective(x, training=True),  # pylint: disable=protected-access
                                     lambda: coder.trainable_variables), images)
  from deepsic_tf.config import DeepSICConfig  # pylint: disable=import-outside-toplevel
  from deepsic_tf.models import DeepSIC  # pylint: disable=import-outside-toplevel
  model = DeepSIC(DeepSICConfig(num_classes=classes, **widths))
  model(tf.zeros((1, crop, crop, 3)))
  return graph_flops(training_step(lambda x, y: model._objective(x, y, training=True)[0],  # pylint: disable=protected-access
                                   lambda: model.trainable_variables),
                     images, tf.TensorSpec((batch,), tf.int64))


def count_flops() -> Dict[str, float]:
  """{"family/width": FLOPs a step}, each width at the batch and crop it trains with."""
  return {key: step_flops(key.split("/")[0], widths,
                          (PAPER_SHAPES if key.endswith("/paper") else STEP_SHAPES)[
                              key.split("/")[0]])
          for key, widths in WIDTHS.items()}


# ------------------------------------------------------------------------- the points

@dataclasses.dataclass
class Point:
  """One measured (or derived) model: its quality after `steps` and what it cost.

  `quality`: R2I, % MS-SSIM BD savings against our JPEG; DeepSIC, Kodak PSNR-RGB (dB) at
  the reference rate. `fitted`: a measurement on its width's footing, used in the fit.
  """
  family: str
  width: str
  steps: int
  seed: int
  quality: float
  core_hours: float
  compute: float
  source: str
  fitted: bool = True
  note: str = ""


def read_text(source: str) -> str:
  """A repository file, or `COMMIT:path` as an earlier commit shipped it (git show)."""
  if ":" not in source:
    return (REPO / source).read_text(encoding="utf-8")
  shown = subprocess.run(["git", "-C", str(REPO), "show", source], capture_output=True,
                         text=True, check=False)
  if shown.returncode:
    raise UserError(f"git show {source} failed (a clone without that history?): "
                    f"{shown.stderr.strip()}")
  return shown.stdout


def read_curve(source: str) -> rd.RDCurve:
  data = json.loads(read_text(source))
  return rd.RDCurve(str(data["name"]), "", {key: list(values)
                                            for key, values in data["results"].items()})


def jpeg_saving(curve: rd.RDCurve, anchor: rd.RDCurve) -> float:
  """Paper 2's Table 2 measure, in %: minus the MS-SSIM RGB BD rate against `anchor`
  over 0-1 bpp."""
  return -rd.curve_bd_rate(anchor, curve, "ms-ssim-rgb", TABLE_2_RANGE)


# R2I decoding, both seeds: each budget ends one more run of the shipped chain
# (saved_models/r2i-decoding/README.md): three `cpu` runs of 6,000 steps, each continuing
# the last, then two low-rate runs of 3,000 (1e-4). RD files: the shipped float16 models
# at 6,000 and 24,000 steps, the float32 runs of docs/r2i_training_length.md between.
# Wall seconds of the chain (one thread a run): the summary.json shipped with the budget;
# at 12,000, 6,000's plus the second run's minutes in the README ("Times: ...").
R2I_SEEDS = ("r2i-decoding", "r2i-decoding-seed1")
R2I_BUDGETS = (
    (6000, "9983ff3:reports/kodak/{}.json", "9983ff3:saved_models/{}/summary.json"),
    (12000, "docs/r2i_training_length/12k/{}.json", None),
    (18000, "docs/r2i_training_length/18k/{}.json", "4ee6d5e:saved_models/{}/summary.json"),
    (21000, "docs/r2i_training_length/anneal/{}.json", "40205ff:saved_models/{}/summary.json"),
    (24000, "reports/kodak/{}.json", "saved_models/{}/summary.json"))


def _chain_seconds(summary: str | None, name: str, earlier: float) -> float:
  if summary is not None:
    return float(json.loads(read_text(summary.format(name)))["wall_seconds"])
  times = re.search(r"Times: (\d+), (\d+), (\d+) minutes",
                    read_text(f"saved_models/{name}/README.md"))
  if times is None:
    raise UserError(f"saved_models/{name}/README.md gives no run times")
  return earlier + 60.0 * int(times.group(2))


def r2i_points(flops: Dict[str, float], jpeg: rd.RDCurve) -> List[Point]:
  """R2I decoding at the `cpu` widths, both seeds at every budget."""
  points = []
  for seed, name in enumerate(R2I_SEEDS):
    seconds = 0.0
    for steps, curve, summary in R2I_BUDGETS:
      seconds = _chain_seconds(summary, name, seconds)
      points.append(Point("r2i", "cpu", steps, seed,
                          jpeg_saving(read_curve(curve.format(name)), jpeg), seconds / 3600,
                          flops["r2i/cpu"] * steps, curve.format(name)))
  return points


# DeepSIC post-semantic: Kodak PSNR-RGB at deepsic-post-q2's rate with the prior it learned
# with its transforms on 64x64 patches, as every point here has (the shipped q2 relearned
# it on whole images since: 2.6 % fewer bits, docs/deepsic_entropy_model.md).
DEEPSIC_CURVE = "33c9345:reports/kodak/deepsic-post.json"  # q1-q4 before those prior runs
DEEPSIC_ABLATION = "docs/deepsic_ablation.json"


def log_rate_interp(rate: float, low: Tuple[float, float], high: Tuple[float, float]) -> float:
  """PSNR at `rate` on the line through two (bpp, PSNR) points, linear in log rate as
  `compression_eval.rd.value_at` interpolates; beyond them it extrapolates."""
  fraction = math.log(rate / low[0]) / math.log(high[0] / low[0])
  return low[1] + fraction * (high[1] - low[1])


# The commits whose summary.json holds each model's transforms runs alone (wall seconds:
# post-q2's 40,000 steps and post-q4's 40,000 + 16,000 on two cores, post-q3's 8,000 from
# post-q4 on one thread).
DEEPSIC_SUMMARIES = {"deepsic-post-q2": "cb703aa", "deepsic-post-q4": "33c9345",
                     "deepsic-post-q3": "15c9b5e"}


def deepsic_seconds() -> Dict[str, float]:
  return {name: float(json.loads(read_text(f"{commit}:saved_models/{name}/summary.json"))[
      "wall_seconds"]) for name, commit in DEEPSIC_SUMMARIES.items()}


def deepsic_points(flops: Dict[str, float], seconds: Dict[str, float]
                   ) -> Tuple[List[Point], float, float]:
  """The DeepSIC points, the reference rate (post-q2's Kodak bpp, real files) and the RD
  slope at 48 filters there (dB a doubling of rate, post-q1 to post-q2)."""
  q1, q2, q3, q4 = zip(*read_curve(DEEPSIC_CURVE).points("psnr-rgb"))
  rate = q2[0]
  slope = (q2[1] - q1[1]) / math.log2(q2[0] / q1[0])
  group = json.loads(read_text(DEEPSIC_ABLATION))["groups"]["lambda"]
  low, high = (group["runs"][f"gdn lambda1={value}"][0] for value in ("0.0025", "0.01"))
  steps = round((low["steps"] + high["steps"]) / 2)
  return [
      Point("deepsic", "cpu", steps, 0,
            log_rate_interp(rate, (low["kodak_bpp"], low["kodak_psnr"]),
                            (high["kodak_bpp"], high["kodak_psnr"])),
            2 * group["seconds"] / 3600, flops["deepsic/cpu, 64-channel code"] * steps,
            f"{DEEPSIC_ABLATION} (group lambda)",
            note="64-channel code, constant 1e-3, estimated bpp; interpolated between "
                 "lambda1 0.0025 and 0.01"),
      Point("deepsic", "cpu", 40000, 0, q2[1], 2 * seconds["deepsic-post-q2"] / 3600,
            flops["deepsic/cpu"] * 40000, f"{DEEPSIC_CURVE} (deepsic-post-q2)",
            note="the shipped recipe: lambda1 0.015 from scratch"),
      Point("deepsic", "96 filters, cpu head", 64000, 0, log_rate_interp(rate, q3, q4),
            (2 * seconds["deepsic-post-q4"] + seconds["deepsic-post-q3"]) / 3600,
            flops["deepsic/96 filters, cpu head"] * 64000, f"{DEEPSIC_CURVE} (post-q3, q4)",
            fitted=False, note="post-q3: 40k + 16k + 8k steps at three lambda1; "
                               "extrapolated to the rate along q3-q4"),
  ], rate, slope


# ------------------------------------------------------------------------------ fits

@dataclasses.dataclass
class Fit:
  """Least squares of quality on x = log10(FLOPs) - x0.

  "log-linear": q = a + b x. "saturating": q = c - a 10^(-alpha x), a power law in compute
  that levels off at c. `interval` is the 95 % prediction interval of one new model: the
  delta method on the parameters' covariance plus the residual variance (seed spread and
  misfit), t-distributed with the residual degrees of freedom.
  """
  form: str
  params: np.ndarray
  covariance: np.ndarray
  residual_var: float
  dof: int
  x0: float

  def value(self, x: float, params: np.ndarray | None = None) -> float:
    p = self.params if params is None else params
    if self.form == "log-linear":
      return float(p[0] + p[1] * (x - self.x0))
    return float(p[0] - p[1] * 10.0 ** (-p[2] * (x - self.x0)))

  def interval(self, x: float) -> Tuple[float, float]:
    from scipy import stats  # pylint: disable=import-outside-toplevel
    shifts = np.diag(1e-6 * np.maximum(1.0, np.abs(self.params)))
    gradient = np.array([(self.value(x, self.params + h) - self.value(x, self.params - h))
                         / (2 * h[i]) for i, h in enumerate(shifts)])
    spread = math.sqrt(gradient @ self.covariance @ gradient + self.residual_var)
    half = float(stats.t.ppf(0.5 + LEVEL / 2, self.dof)) * spread
    return self.value(x) - half, self.value(x) + half

  def to_json(self) -> Dict[str, Any]:
    return {"form": self.form, "params": self.params.tolist(),
            "stderr": np.sqrt(np.diag(self.covariance)).tolist(),
            "covariance": self.covariance.tolist(), "residual_var": self.residual_var,
            "dof": self.dof, "x0": self.x0}

  @classmethod
  def from_json(cls, data: Dict[str, Any]) -> "Fit":
    return cls(data["form"], np.asarray(data["params"]), np.asarray(data["covariance"]),
               data["residual_var"], data["dof"], data["x0"])


SHARED = "saturating, shared exponent"
PARAMETERS = {"log-linear": 2, "saturating": 3, SHARED: 2}  # free parameters of each form


def fit(x: Sequence[float], q: Sequence[float], form: str) -> Fit:
  from scipy.optimize import curve_fit  # pylint: disable=import-outside-toplevel
  x, q = np.asarray(x, float), np.asarray(q, float)
  x0 = float(x.min())
  if form == "log-linear":
    params, covariance = curve_fit(lambda s, a, b: a + b * s, x - x0, q)
  else:
    params, covariance = curve_fit(lambda s, c, a, alpha: c - a * 10.0 ** (-alpha * s), x - x0,
                                   q, p0=(q.max() + 1.0, q.max() + 1.0 - q.min(), 1.0),
                                   bounds=([-np.inf, 0, 0], [np.inf, np.inf, 20]), maxfev=20000)
  model = Fit(form, params, covariance, 0.0, len(x) - PARAMETERS[form], x0)
  residuals = q - np.array([model.value(value) for value in x])
  model.residual_var = float(residuals @ residuals / model.dof)
  return model


def _fit_given_exponent(x: np.ndarray, q: np.ndarray, x0: float, alpha: float
                        ) -> Tuple[np.ndarray, np.ndarray]:
  """(c, a) of q = c - a 10^(-alpha (x - x0)) by linear least squares, and the basis."""
  basis = np.stack([np.ones_like(x), -10.0 ** (-alpha * (x - x0))], axis=1)
  return np.linalg.lstsq(basis, q, rcond=None)[0], basis


def fit_shared_exponent(x: Sequence[float], q: Sequence[float], reference: Fit) -> Fit:
  """The power law with the exponent alpha of `reference`, another width's fit of the
  same family whose points show the bend, and c and a of these points.

  For a width whose few budgets span too little compute to measure their own bend. The
  exponent does not depend on x0, so it carries over. Its variance goes into the
  covariance with how c and a move when alpha moves (refitted at alpha +- h), so that the
  prediction interval holds alpha's uncertainty as well as the points'.
  """
  x, q = np.asarray(x, float), np.asarray(q, float)
  x0, alpha, alpha_var = float(x.min()), float(reference.params[2]), reference.covariance[2, 2]
  params, basis = _fit_given_exponent(x, q, x0, alpha)
  dof = len(x) - PARAMETERS[SHARED]
  residuals = q - basis @ params
  residual_var = float(residuals @ residuals / dof)
  h = 1e-5 * max(1.0, alpha)
  moved = (_fit_given_exponent(x, q, x0, alpha + h)[0]
           - _fit_given_exponent(x, q, x0, alpha - h)[0]) / (2 * h)
  covariance = np.zeros((3, 3))
  covariance[:2, :2] = (residual_var * np.linalg.inv(basis.T @ basis)
                        + np.outer(moved, moved) * alpha_var)
  covariance[:2, 2] = covariance[2, :2] = moved * alpha_var
  covariance[2, 2] = alpha_var
  return Fit(SHARED, np.array([*params, alpha]), covariance, residual_var, dof, x0)


def choose_fit(x: Sequence[float], q: Sequence[float]) -> Tuple[Fit, Fit | None, float]:
  """(the chosen fit, the other, the F-test's p-value for the power law's third parameter).

  The line is the power law's limit as alpha -> 0, so the F-test asks whether the points
  bend more than they scatter; the power law is chosen where p < 0.05. With fewer than
  five points it is not tried (a residual degree of freedom or none).
  """
  from scipy import stats  # pylint: disable=import-outside-toplevel
  line = fit(x, q, "log-linear")
  if len(x) < 5:
    return line, None, math.nan
  curve = fit(x, q, "saturating")
  rss_line, rss_curve = line.residual_var * line.dof, curve.residual_var * curve.dof
  p_value = float(stats.f.sf((rss_line - rss_curve) / (rss_curve / curve.dof), 1, curve.dof))
  return (curve, line, p_value) if p_value < 0.05 else (line, curve, p_value)


def seed_refits(points: Sequence[Point], model: Fit, x: float,
                reference: Fit | None = None) -> Tuple[float, float]:
  """The range of the prediction at `x` over refits of `model`'s form to one seed per
  budget, every choice: how far the draw of seeds alone moves the extrapolation (NaN where
  one seed a budget leaves the form no residual degree of freedom). `reference` gives the
  shared exponent, for that form."""
  budgets: Dict[int, List[Point]] = {}
  for point in points:
    budgets.setdefault(point.steps, []).append(point)
  if len(budgets) <= PARAMETERS[model.form]:
    return math.nan, math.nan
  values = []
  for choice in itertools.product(*budgets.values()):
    xs, qs = [math.log10(p.compute) for p in choice], [p.quality for p in choice]
    refit = (fit_shared_exponent(xs, qs, reference) if model.form == SHARED
             else fit(xs, qs, model.form))
    values.append(refit.value(x))
  return min(values), max(values)


def extrapolate(points: List[Point], flops: Dict[str, float],
                paper: Dict[str, float]) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
  """The fits of every width with three fitted budgets or more, and each fit's prediction
  at the paper preset's compute beside the paper's figure.

  A width whose own points do not support the power law (a line chosen) while another
  width of its family does takes that width's exponent (`fit_shared_exponent`), and that
  fit is chosen: a bend measured over one decade of compute beats a line through half a
  decade, extrapolated 1.7 decades further.
  """
  fits: Dict[str, Dict[str, Any]] = {}
  models: Dict[str, List[Fit]] = {}
  chosen_points: Dict[str, List[Point]] = {}
  for key in sorted({f"{p.family}/{p.width}" for p in points if p.fitted}):
    chosen = [p for p in points if p.fitted and f"{p.family}/{p.width}" == key]
    if len({p.steps for p in chosen}) < 3:
      continue
    best, other, p_value = choose_fit([math.log10(p.compute) for p in chosen],
                                      [p.quality for p in chosen])
    fits[key] = {**best.to_json(), "f_test_p": p_value,
                 "other": other.to_json() if other else None}
    models[key], chosen_points[key] = [best] + ([other] if other else []), chosen
  references = {key.split("/")[0]: key for key, (best, *_) in models.items()
                if best.form == "saturating"}
  predictions = []
  for key, candidates in models.items():
    family = key.split("/")[0]
    reference = references.get(family)
    if candidates[0].form == "log-linear" and reference not in (None, key):
      shared = fit_shared_exponent([math.log10(p.compute) for p in chosen_points[key]],
                                   [p.quality for p in chosen_points[key]],
                                   models[reference][0])
      fits[key] = {**shared.to_json(), "f_test_p": fits[key]["f_test_p"],
                   "exponent_from": reference, "other": candidates[0].to_json()}
      candidates = [shared, candidates[0]]
    x = math.log10(flops[f"{family}/paper"] * PAPER_STEPS[family])
    for model in candidates:
      low, high = model.interval(x)
      seed_low, seed_high = seed_refits(chosen_points[key], model, x,
                                        models[reference][0] if reference else None)
      predictions.append({"family": family, "width": key.split("/")[1], "form": model.form,
                          "chosen": model is candidates[0],
                          "steps_at_width": 10 ** x / flops[key],
                          "value": model.value(x), "low": low, "high": high,
                          "seed_low": seed_low, "seed_high": seed_high,
                          "paper": paper[family]})
  return fits, predictions


def equal_compute(points: Sequence[Point], fits: Dict[str, Dict[str, Any]]
                  ) -> List[Dict[str, Any]]:
  """Each 2x budget (seed mean) against the `cpu` width's chosen fit at the same compute:
  whether the wider layers buy more quality per FLOP where both were measured."""
  rows = []
  for family in ("r2i", "deepsic"):
    if f"{family}/cpu" not in fits:
      continue
    narrow = Fit.from_json(fits[f"{family}/cpu"])
    span = [math.log10(p.compute) for p in points
            if p.fitted and (p.family, p.width) == (family, "cpu")]
    wide = [p for p in points if p.fitted and (p.family, p.width) == (family, "2x cpu")]
    for steps in sorted({p.steps for p in wide}):
      chosen = [p for p in wide if p.steps == steps]
      x = math.log10(chosen[0].compute)
      quality = float(np.mean([p.quality for p in chosen]))
      rows.append({"family": family, "steps": steps, "seeds": len(chosen),
                   "compute": chosen[0].compute, "quality": quality,
                   "cpu_fit": narrow.value(x), "difference": quality - narrow.value(x),
                   "inside_cpu_points": min(span) <= x <= max(span)})
  return rows


# ------------------------------------------------------------------- missing and plan

@dataclasses.dataclass(frozen=True)
class PlannedRun:
  """One training run of the study: the model it leaves has trained `budget` steps.
  `folder` is its name under runs/scaling/ and, once measured, under RUNS_DIR."""
  family: str
  width: str
  budget: int
  seed: int
  folder: str
  command: str
  core_hours: float  # estimated from FLOPs; `measured_points` gives the measured ones


_DATA = "--dataset folder:../shared/data/imagenette --preset cpu"
_KODAK = "--kodak-dir ../shared/data/kodak"
# What each run left, for this script to read: summary.json (wall seconds; DeepSIC's Kodak
# figures, real files) and, for R2I, kodak.json (its RD curve from scripts/evaluate_kodak.py).
RUNS_DIR = "docs/scaling_runs"
# The budgets run. R2I 2x: three runs of 1,000 steps a seed, each continuing the last; at
# 3,000 steps it has the compute of 11,200 `cpu` steps, inside the `cpu` chain's span.
# DeepSIC 2x: 1,500 to 6,000 steps, the compute of 4,700 to 18,800 `cpu` steps. Both are
# shorter than compute-matched to the largest `cpu` budget, so that every run fits the
# wall time of one working session (the machine advances only while it is watched).
R2I_2X_RUN = 1000
DEEPSIC_BUDGETS = {"cpu": ((10000, 0), (20000, 0), (40000, 1)),
                   "2x cpu": ((1500, 0), (3000, 0), (6000, 0), (6000, 1))}


def missing(points: Sequence[Point]) -> List[Dict[str, Any]]:
  """Each family's `cpu` and `2x cpu` widths: fitted budgets, seeds at the largest, and
  whether issue 42's three budgets with two seeds at the largest are there."""
  rows = []
  for key in ("r2i/cpu", "r2i/2x cpu", "deepsic/cpu", "deepsic/2x cpu"):
    chosen = [p for p in points if p.fitted and f"{p.family}/{p.width}" == key]
    budgets = sorted({p.steps for p in chosen})
    seeds = len({p.seed for p in chosen if p.steps == budgets[-1]}) if budgets else 0
    rows.append({"width": key, "budgets": budgets, "seeds_at_largest": seeds,
                 "complete": len(budgets) >= 3 and seeds >= 2})
  return rows


def plan_runs(flops: Dict[str, float], rates: Dict[str, float],
              eval_seconds: Dict[str, float]) -> List[PlannedRun]:
  """The runs that complete R2I at 2x and DeepSIC at `cpu` and 2x.

  Each is costed at its steps' FLOPs at `rates` (core-seconds a FLOP of the shipped runs)
  plus a Kodak evaluation (Table 2's coding times at `cpu`, scaled by FLOPs). R2I's are a
  chain of three equal runs a seed, each continuing the last (`--init-coder`), as at
  `cpu`; DeepSIC's start from scratch, as post-q2 did.
  """
  def cost(key: str, steps: int) -> float:
    family = key.split("/")[0]
    return (steps * flops[key] * rates[family]
            + eval_seconds[family] * flops[key] / flops[f"{family}/cpu"]) / 3600

  runs = []
  widths = WIDTHS["r2i/2x cpu"]
  flags = " ".join(f"--{name.replace('_', '-')} {','.join(map(str, widths[name]))}"
                   for name in ("encoder_filters", "decoder_filters"))
  run = R2I_2X_RUN
  for seed, budget in itertools.product((0, 1), (run, 2 * run, 3 * run)):
    folder = f"r2i-2x-s{seed}-{budget}"
    init = f" --init-coder runs/scaling/r2i-2x-s{seed}-{budget - run}" if budget > run else ""
    runs.append(PlannedRun(
        "r2i", "2x cpu", budget, seed, folder,
        f"TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 python scripts/train_r2i.py "
        f"{_DATA} --variant decoding --seed {seed} {flags} --steps {run} --shards 1{init} "
        f"--output runs/scaling/{folder} && python scripts/evaluate_kodak.py {_KODAK} --out "
        f"runs/scaling/eval/{folder} --codecs r2i:runs/scaling/{folder}/codec --jobs 1",
        cost("r2i/2x cpu", run)))
  widths = WIDTHS["deepsic/2x cpu"]
  for width, flags in (("cpu", ""), ("2x cpu", f" --filters {widths['filters']} --head-filters "
                                               f"{widths['head_filters']} --head-units "
                                               f"{widths['head_units']}")):
    for steps, seed in DEEPSIC_BUDGETS[width]:
      folder = f"deepsic-{width.replace(' ', '')}-s{seed}-{steps}"
      runs.append(PlannedRun(
          "deepsic", width, steps, seed, folder,
          f"python scripts/train_deepsic.py --architecture post --bottleneck-channels 128 "
          f"--lambda 0.015{flags} --steps {steps} --seed {seed} {_DATA} {_KODAK} --output "
          f"runs/scaling/{folder}", cost(f"deepsic/{width}", steps)))
  return runs


def measured_points(runs: Sequence[PlannedRun], flops: Dict[str, float], jpeg: rd.RDCurve,
                    rate: float, slope: float) -> Tuple[List[Point], Dict[str, float]]:
  """The points of the study's runs that RUNS_DIR holds, and each measured run's
  core-hours by folder.

  R2I's core-hours are its chain's so far (one thread a run); a budget without its Kodak
  file still counts in the chain. A DeepSIC run lands where lambda1 0.015 takes it after
  its steps; its PSNR is brought to `rate` along `slope` (dB a doubling of rate, measured
  between post-q1 and post-q2), and the note says how far it was brought.
  """
  points, hours, chains = [], {}, {}
  for run in runs:
    folder = REPO / RUNS_DIR / run.folder
    if not (folder / "summary.json").is_file():
      continue
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    key = f"{run.family}/{run.width}"
    source = f"{RUNS_DIR}/{run.folder}"
    if run.family == "r2i":
      chains[run.seed] = chains.get(run.seed, 0.0) + summary["wall_seconds"] / 3600
      hours[run.folder] = summary["wall_seconds"] / 3600
      if (folder / "kodak.json").is_file():
        points.append(Point("r2i", run.width, run.budget, run.seed,
                            jpeg_saving(read_curve(f"{source}/kodak.json"), jpeg),
                            chains[run.seed], flops[key] * run.budget, source))
      continue
    hours[run.folder] = 2 * summary["wall_seconds"] / 3600  # both cores
    kodak = summary["kodak"]
    doublings = math.log2(rate / kodak["bpp"])
    points.append(Point("deepsic", run.width, run.budget, run.seed,
                        kodak["psnr-rgb"] + slope * doublings, hours[run.folder],
                        flops[key] * run.budget, source,
                        note=f"{kodak['bpp']:.3f} bpp, {kodak['psnr-rgb']:.2f} dB; brought "
                             f"{doublings:+.2f} doublings of rate"))
  return points, hours


# ------------------------------------------------------------------------ the study

def measure() -> Dict[str, Any]:
  """Every figure of the study: FLOPs, points, fits, predictions, what is missing, runs."""
  flops = count_flops()
  jpeg = read_curve("reports/kodak/jpeg.json")
  seconds = deepsic_seconds()
  deepsic, rate, slope = deepsic_points(flops, seconds)
  table_2 = {row["approach"]: row for row in
             json.loads(read_text("reports/results.json"))["tables"]["table_2"]["rows"]}
  paper = {"r2i": table_2["r2i-decoding"]["paper_rate_savings_pct"],
           "deepsic": rd.value_at(jpeg, "psnr-rgb", rate)}
  shipped = r2i_points(flops, jpeg) + deepsic
  # Core-seconds a FLOP: R2I's two 24,000-step chains (one thread), post-q2's 40,000 steps
  # (two cores): the estimates of the runs' costs.
  rates = {family: np.mean([p.core_hours * 3600 / p.compute for p in shipped
                            if p.family == family and p.steps == steps and p.fitted])
           for family, steps in (("r2i", 24000), ("deepsic", 40000))}
  eval_seconds = {family: 24 * (table_2[name]["encoding_time"] + table_2[name]["decoding_time"])
                  for family, name in (("r2i", "r2i-decoding"), ("deepsic", "deepsic-post"))}
  runs = plan_runs(flops, rates, eval_seconds)
  new, hours = measured_points(runs, flops, jpeg, rate, slope)
  points = shipped + new
  fits, predictions = extrapolate(points, flops, paper)
  return {
      "flops_per_step": flops,
      "paper_compute": {family: flops[f"{family}/paper"] * PAPER_STEPS[family]
                        for family in PAPER_STEPS},
      "reference_rate_bpp": rate,
      "deepsic_slope_db_per_doubling": slope,
      "paper": {**paper, "deepsic_jpeg2000": rd.value_at(
          read_curve("reports/kodak/jpeg2000.json"), "psnr-rgb", rate)},
      "points": [dataclasses.asdict(p) for p in sorted(
          points, key=lambda p: (p.family, p.width, p.steps, p.seed))],
      "fits": fits, "predictions": predictions, "missing": missing(points),
      "equal_compute": equal_compute(points, fits),
      "runs": {"runs": [{**dataclasses.asdict(run), "measured_core_hours": hours.get(run.folder)}
                        for run in runs],
               "estimated_core_hours": sum(run.core_hours for run in runs),
               "measured_core_hours": sum(hours.values()),
               "core_seconds_per_flop": rates},
      # The costing's check: post-q4's 56,000 steps at 96 filters against FLOPs scaling.
      "checks": {"deepsic_96_core_s_per_step": {
          "measured": 2 * seconds["deepsic-post-q4"] / 56000,
          "flops_scaled": rates["deepsic"] * flops["deepsic/96 filters, cpu head"]}},
  }


# ------------------------------------------------------------------------ the output

def render(figures: Dict[str, Any]) -> str:
  flops = figures["flops_per_step"]
  quality = {"r2i": "{:+.2f} %", "deepsic": "{:.2f} dB"}
  runs = figures["runs"]
  step = figures["checks"]["deepsic_96_core_s_per_step"]
  return "\n".join([
      table("FLOPs of one training step (forward and backward, TensorFlow's profiler)",
            ["family/width", "GFLOPs a step", "against cpu"],
            [[key, f"{value / 1e9:.2f}", f"{value / flops[key.split('/')[0] + '/cpu']:.2f}x"]
             for key, value in flops.items()]),
      table(f"Points (R2I: MS-SSIM BD savings against our JPEG, 0-1 bpp; DeepSIC: Kodak "
            f"PSNR-RGB at {figures['reference_rate_bpp']:.4f} bpp)",
            ["family", "width", "steps", "seed", "quality", "PFLOPs", "core-hours", "fitted",
             "source", "note"],
            [[p["family"], p["width"], f"{p['steps']:,}", p["seed"],
              quality[p["family"]].format(p["quality"]), f"{p['compute'] / 1e15:.4f}",
              f"{p['core_hours']:.2f}", "yes" if p["fitted"] else "no", p["source"], p["note"]]
             for p in figures["points"]]),
      table("Fits (x = log10 FLOPs - x0)",
            ["width", "form", "parameters +- stderr", "residual sd", "x0",
             "F-test p, power law against line", "other form's residual sd"],
            [[key, fit["form"], ", ".join(f"{v:.3g} +- {e:.2g}" for v, e in
                                          zip(fit["params"], fit["stderr"])),
              f"{math.sqrt(fit['residual_var']):.2f}", f"{fit['x0']:.3f}",
              f"{fit['f_test_p']:.3f}",
              f"{math.sqrt(fit['other']['residual_var']):.2f}" if fit["other"] else ""]
             for key, fit in figures["fits"].items()]),
      table("At the paper preset's compute, beside the paper",
            ["family", "width", "form", "paper compute (PFLOPs)", "steps at this width",
             "predicted", "95 % prediction interval", "one seed a budget, all choices",
             "paper"],
            [[row["family"], row["width"], row["form"] + (" (chosen)" if row["chosen"] else ""),
              f"{figures['paper_compute'][row['family']] / 1e15:.1f}",
              f"{row['steps_at_width']:,.0f}", f"{row['value']:+.1f}",
              f"{row['low']:+.1f} to {row['high']:+.1f}",
              f"{row['seed_low']:+.1f} to {row['seed_high']:+.1f}", f"{row['paper']:+.1f}"]
             for row in figures["predictions"]]),
      table("At equal compute: each 2x budget (seed mean) against the cpu width's fit",
            ["family", "2x steps", "seeds", "PFLOPs", "2x", "cpu fit there", "2x - cpu",
             "inside the cpu points"],
            [[row["family"], f"{row['steps']:,}", row["seeds"], f"{row['compute'] / 1e15:.4f}",
              quality[row["family"]].format(row["quality"]),
              quality[row["family"]].format(row["cpu_fit"]), f"{row['difference']:+.2f}",
              "yes" if row["inside_cpu_points"] else "no (extrapolated)"]
             for row in figures["equal_compute"]]),
      table("Issue 42's points: three budgets, two seeds at the largest",
            ["width", "budgets (steps)", "seeds at the largest", "status"],
            [[row["width"], ", ".join(f"{b:,}" for b in row["budgets"]) or "none",
              row["seeds_at_largest"], "complete" if row["complete"] else "missing"]
             for row in figures["missing"]]),
      table(f"The study's runs: {runs['measured_core_hours']:.2f} core-hours measured, "
            f"{runs['estimated_core_hours']:.2f} estimated for all (cap {BUDGET_CORE_HOURS:g})",
            ["width", "seed", "steps after the run", "estimated core-hours",
             "measured core-hours", "command"],
            [[f"{run['family']}/{run['width']}", run["seed"], f"{run['budget']:,}",
              f"{run['core_hours']:.2f}",
              "not run" if run["measured_core_hours"] is None
              else f"{run['measured_core_hours']:.2f}", f"`{run['command']}`"]
             for run in runs["runs"]]),
      f"Check of the costing: DeepSIC at 96 filters took "
      f"{step['measured']:.3f} core-s a step where FLOPs scaling says "
      f"{step['flops_scaled']:.3f}.\n"])


_COLOURS = {"cpu": "C0", "2x cpu": "C1", "96 filters, cpu head": "C2"}
_OFFSETS = {"cpu": 1.0, "2x cpu": 0.6}


def plot(figures: Dict[str, Any], path: Path) -> None:
  """Quality against compute (log x), one panel a family: the points (hollow: not fitted),
  each fit (solid over its points, dashed beyond) with its 95 % prediction band, its
  prediction at the paper preset's compute (with the range of the seed refits, grey) and
  the paper's figure there (star)."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  from compression_eval.fileio import atomic_write_bytes  # pylint: disable=import-outside-toplevel
  figure, axes = plt.subplots(1, 2, figsize=(12, 4.8), dpi=110)
  titles = {"r2i": ("R2I decoding: Kodak MS-SSIM BD savings against our JPEG, 0-1 bpp (%)",
                    "paper 2, Table 2"),
            "deepsic": (f"DeepSIC post: Kodak PSNR-RGB at {figures['reference_rate_bpp']:.3f} "
                        "bpp (dB)", "our JPEG: the paper's 'comparable with JPEG'")}
  for axis, family in zip(axes, ("r2i", "deepsic")):
    points = [p for p in figures["points"] if p["family"] == family]
    for width, fitted in dict.fromkeys((p["width"], p["fitted"]) for p in points):
      chosen = [p for p in points if (p["width"], p["fitted"]) == (width, fitted)]
      axis.scatter([p["compute"] for p in chosen], [p["quality"] for p in chosen],
                   color=_COLOURS[width], facecolors=None if fitted else "none", zorder=3,
                   label=width + ("" if fitted else " (not fitted)"))
    paper_x = math.log10(figures["paper_compute"][family])
    for key, entry in figures["fits"].items():
      if not key.startswith(family + "/"):
        continue
      width = key.split("/")[1]
      model = Fit.from_json(entry)
      end = max(math.log10(p["compute"]) for p in points if p["width"] == width and p["fitted"])
      xs = np.linspace(model.x0, paper_x, 100)
      bands = np.array([model.interval(x) for x in xs])
      axis.fill_between(10 ** xs, bands[:, 0], bands[:, 1], color=_COLOURS[width], alpha=0.12)
      for part in (xs <= end, xs >= end):
        axis.plot(10 ** xs[part], [model.value(x) for x in xs[part]], "-" if part[0] else "--",
                  color=_COLOURS[width])
      row = next(r for r in figures["predictions"] if r["family"] == family and r["chosen"]
                 and r["width"] == width)
      at = _OFFSETS[width] * 10 ** paper_x  # the widths' predictions side by side
      axis.errorbar([at], [row["value"]], fmt="D", color=_COLOURS[width], capsize=4,
                    yerr=[[row["value"] - row["low"]], [row["high"] - row["value"]]],
                    label=f"{width}, {row['form']} fit: 95 % prediction interval")
      if not math.isnan(row["seed_low"]):  # the refits' range need not hold the value
        axis.errorbar([1.25 * at], [(row["seed_low"] + row["seed_high"]) / 2], fmt="none",
                      color="grey", capsize=4, yerr=[(row["seed_high"] - row["seed_low"]) / 2],
                      label="refits, one seed a budget")
    axis.scatter([10 ** paper_x], [figures["paper"][family]], marker="*", s=180, color="k",
                 zorder=4, label=titles[family][1])
    gaps = [row["width"].split("/")[1] for row in figures["missing"]
            if row["width"].startswith(family + "/") and not row["complete"]]
    if gaps:
      axis.text(0.02, 0.97, "missing (three budgets, two seeds at the largest): "
                + ", ".join(gaps), transform=axis.transAxes, fontsize=8, va="top")
    axis.axvline(10 ** paper_x, color="grey", linestyle=":", linewidth=1)
    axis.set_xscale("log")
    axis.set_xlabel("training compute: FLOPs a step x steps (the paper preset's dotted)")
    axis.set_title(titles[family][0], fontsize=9)
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=7, loc="lower right")
  figure.suptitle("Measured at CPU scale (2-core CPU, Imagenette); beyond the points, "
                  "extrapolation", fontsize=10)
  figure.tight_layout()
  buffer = io.BytesIO()
  figure.savefig(buffer, format="png")
  plt.close(figure)
  atomic_write_bytes(path, buffer.getvalue())


def main(argv: List[str] | None = None) -> int:
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--json", default=str(REPO / "docs" / "scaling.json"))
  parser.add_argument("--png", default=str(REPO / "docs" / "scaling.png"))
  args = parser.parse_args(sys.argv[1:] if argv is None else argv)
  figures = measure()
  plot(figures, Path(args.png))
  return publish(figures, render, args.json)


if __name__ == "__main__":
  run_cli(main)
