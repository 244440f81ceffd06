"""The trained models the papers' tables need: how each is trained, shipped and exported.

`saved_models/<name>/` holds what `compression_eval.shipped` writes (config and float16
weights) beside the run's summary and a README that says what data, preset, command and
time made the model and what it measured. `scripts/reproduce_tables.py` trains the
missing ones with `--train` (the same commands) and exports the codecs it evaluates.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import shlex
import shutil
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from compression_eval import export_cache, shipped
from compression_eval.errors import UserError
from compression_eval.fileio import atomic_directory
from compression_zoo import families
from deepsic_tf.presets import PRESETS as DEEPSIC_PRESETS
from deepsic_tf.presets import (CODE_CHANNELS, HEAD_RUN, LAMBDA_SEMANTIC,
                                LAMBDA_SEMANTIC_RUN, PRIOR_RUN, RATE_POINTS,
                                REFERENCE_RUN, REFERENCE_START, SCRATCH_PATCHES)
from r2i_tf.presets import (INPAINTER_STEPS, IR2I_CPU_RUNS, IR2I_LOW_RATE_STEPS, IR2I_STEPS,
                            LOW_RATE, LOW_RATE_RUNS, R2I_CPU_RUNS, R2I_LOW_RATE_STEPS)


@dataclasses.dataclass(frozen=True)
class ZooModel:
  """One shipped model.

  Attributes:
    name: its folder under saved_models/ (and its run folder under the work dir).
    trainer: "deepsic" or "r2i": its family (`compression_zoo.families`), which trains,
      loads and exports it.
    flags: the training script's flags besides --dataset, --preset and --output; `{models}`
      stands for the folder of shipped models.
    role: what the tables use it for, one line.
    needs: shipped models the flags name, trained first.
    cpu_flags: flags added at `--preset cpu` only.
    warmup: a run trained first (into its own run folder, not shipped) that this one
      starts from.
    warmup_flags: the flags that take the warm-up run's model folder (DeepSIC's `--init`;
      an IR2I continued from its warm-up takes both parts from it).
    warmup_at_cpu_only: whether the warm-up run belongs to the `cpu` preset's recipe alone
      (R2I's repeated cpu runs); at `paper` such a model trains in one run.
  """
  name: str
  trainer: str
  flags: Tuple[str, ...]
  role: str
  needs: Tuple[str, ...] = ()
  cpu_flags: Tuple[str, ...] = ()
  warmup: Optional["ZooModel"] = None
  warmup_flags: Tuple[str, ...] = ("--init",)
  warmup_at_cpu_only: bool = False

  def earlier_run(self, preset: str) -> Optional["ZooModel"]:
    """The run this one continues at `preset`, if any."""
    if self.warmup_at_cpu_only and preset != "cpu":
      return None
    return self.warmup

  @property
  def is_codec(self) -> bool:
    """Whether the model exports a codec (inpainters and the reference classifier do not)."""
    return not (self.name.startswith("inpainter-") or self.name == "deepsic-reference")


def _deepsic_flags(architecture: str, filters: int, lambda_distortion: float) -> Tuple[str, ...]:
  return ("--architecture", architecture, "--bottleneck-channels", str(CODE_CHANNELS),
          "--filters", str(filters), "--lambda", str(lambda_distortion))


def _deepsic(architecture: str, quality: int) -> ZooModel:
  """A shipped DeepSIC model: at `cpu`, the post-semantic lambda2 = 1 chain of its rate point
  (`_post_semantic_weight_one`) continued in the model's own architecture at lambda2 =
  `LAMBDA_SEMANTIC` (`LAMBDA_SEMANTIC_RUN`), then its prior relearned on whole images
  (`deepsic_tf.presets.PRIOR_RUN`), then its head on Table I's crops (`HEAD_RUN`); a point
  of its own subsampling trains its transforms from scratch instead (`RatePoint`). At
  `paper`, one run from scratch."""
  point = RATE_POINTS[quality - 1]
  name = f"deepsic-{architecture}-q{quality}"
  lambda_distortion = point.shipped_lambda or point.lambda_distortion
  flags = (*_deepsic_flags(architecture, point.filters, lambda_distortion),
           "--lambda-semantic", str(LAMBDA_SEMANTIC))
  subsampling = ",".join(map(str, point.subsampling or ()))
  role = (f"DeepSIC {architecture}-semantic at rate point {quality} of 4 (lambda1 "
          f"{lambda_distortion}, {point.filters} filters, lambda2 {LAMBDA_SEMANTIC}"
          f"{f', subsampling {subsampling}' if point.subsampling else ''}): "
          "a Table I row and a point of Figures 6-7")
  if point.subsampling:
    flags += ("--subsampling", subsampling)
    transforms = ZooModel(f"{name}-transforms", "deepsic", flags,
                          f"the run whose transforms {name} keeps",
                          cpu_flags=("--steps", str(point.steps), *SCRATCH_PATCHES))
  else:
    transforms = ZooModel(f"{name}-transforms-lambda2", "deepsic", flags,
                          f"the run whose transforms {name} keeps",
                          cpu_flags=LAMBDA_SEMANTIC_RUN,
                          warmup=_post_semantic_weight_one(quality), warmup_at_cpu_only=True)
  return _prior_and_head(name, flags, transforms, role)


def _prior_and_head(name: str, flags: Tuple[str, ...], transforms: ZooModel,
                    role: str) -> ZooModel:
  """`transforms` with its prior relearned (`PRIOR_RUN`, into <name>-prior), then its head
  (`HEAD_RUN`): the model `name`."""
  prior = ZooModel(f"{name}-prior", "deepsic", flags,
                   f"the run whose entropy model {name} keeps",
                   cpu_flags=PRIOR_RUN, warmup=transforms, warmup_at_cpu_only=True)
  return ZooModel(name, "deepsic", flags, role, cpu_flags=HEAD_RUN,
                  warmup=prior, warmup_at_cpu_only=True)


def _post_semantic_weight_one(quality: int) -> ZooModel:
  """The post-semantic chain of a rate point at lambda2 = 1, where both shipped models of
  its rate continue at `LAMBDA_SEMANTIC`, and its neighbour's chain starts."""
  point = RATE_POINTS[quality - 1]
  name = f"deepsic-post-q{quality}-lambda2-1"
  return _prior_and_head(name, _deepsic_flags("post", point.filters, point.lambda_distortion),
                         _post_semantic_transforms(quality), f"the lambda2 = 1 model of {name}")


def _post_semantic_transforms(quality: int) -> ZooModel:
  """The run that trains a rate point's lambda2 = 1 transforms and head: from its
  neighbour's lambda2 = 1 model or from its warm-up (`--init`, at `cpu`)."""
  point = RATE_POINTS[quality - 1]
  name = f"deepsic-post-q{quality}"
  flags = _deepsic_flags("post", point.filters, point.lambda_distortion)
  start = None
  if point.start is not None:
    start = _post_semantic_weight_one(point.start)
  elif point.warmup:
    warmup_lambda, warmup_steps = point.warmup
    start = ZooModel(f"{name}-warmup", "deepsic",
                     _deepsic_flags("post", point.filters, warmup_lambda),
                     f"the run {name} starts from", cpu_flags=("--steps", str(warmup_steps)))
  return ZooModel(f"{name}-transforms", "deepsic", flags,
                  f"the run whose transforms and head {name} keeps",
                  cpu_flags=("--steps", str(point.steps)), warmup=start, warmup_at_cpu_only=True)


def _cpu_runs(name: str, flags: Tuple[str, ...], role: str, warmup_flags: Tuple[str, ...],
              runs_cpu_flags: Sequence[Tuple[str, ...]], first: Optional[ZooModel] = None,
              needs: Tuple[str, ...] = ()) -> ZooModel:
  """A model trained at `cpu` in one run per entry of `runs_cpu_flags` (that run's flags at
  `cpu`), each continuing the last (`warmup_flags` take its model folder); the runs before
  the last train into <name>-run<N>. `first`, if given, is run 1 (one with flags of its
  own; `runs_cpu_flags` then starts at run 2). At `paper`, the last run alone, with none
  of the `cpu` flags."""
  model = first
  offset = 2 if first else 1
  for run, cpu_flags in enumerate(runs_cpu_flags, start=offset):
    last = run == len(runs_cpu_flags) + offset - 1
    model = ZooModel(name if last else f"{name}-run{run}", "r2i", flags,
                     role if last else f"run {run} of {name}", needs=needs,
                     cpu_flags=cpu_flags, warmup=model, warmup_flags=warmup_flags,
                     warmup_at_cpu_only=True)
  assert model is not None
  return model


def _low_rate_runs(steps: int) -> List[Tuple[str, ...]]:
  """The last runs of every R2I and IR2I chain at `cpu`: `LOW_RATE_RUNS` runs of `steps` at
  a tenth of the rate (`r2i_tf.presets`)."""
  return [("--steps", str(steps), "--learning-rate", str(LOW_RATE))] * LOW_RATE_RUNS


def _before_low_rate(model: ZooModel) -> ZooModel:
  """The run of `model`'s chain that its low-rate runs continue."""
  for _ in range(LOW_RATE_RUNS):
    assert model.warmup is not None
    model = model.warmup
  return model


def _ir2i(joint: bool, decoding: ZooModel) -> ZooModel:
  """IR2I (Figure 5a). At `cpu`, `IR2I_CPU_RUNS` runs of `IR2I_STEPS` each and the low-rate
  runs: the first from decoding's coder as it was before its low-rate runs and the
  multi-scale inpainter, each later one continuing the last.
  The joint model trains the inpainter too, so it takes both parts; the separate one keeps
  the inpainter frozen and takes only the coder. At `paper`, the paper's recipe: one run
  from scratch."""
  inpainter = "{models}/inpainter-multiscale"
  name, variant = ("r2i-ir2i", "ir2i") if joint else ("r2i-ir2i-separate", "ir2i-separate")
  frozen = () if joint else ("--inpainter", inpainter)
  role = ("IR2I, inpainting trained jointly (Figure 5a, Table 2)" if joint else
          "R2I decoding on a frozen, separately trained inpainter (Figure 5a)")
  steps = ("--steps", str(IR2I_STEPS))
  first = ZooModel(f"{name}-run1", "r2i",
                   ("--variant", variant, *frozen,
                    *(("--init-inpainter", inpainter) if joint else ())),
                   f"the first run of {name}, from the trained parts", cpu_flags=steps,
                   warmup=_before_low_rate(decoding), warmup_flags=("--init-coder",),
                   warmup_at_cpu_only=True)
  return _cpu_runs(name, ("--variant", variant, *frozen),
                   f"{role}; at cpu from the trained parts, at paper from scratch",
                   ("--init-coder", "--init-inpainter") if joint else ("--init-coder",),
                   [steps] * (IR2I_CPU_RUNS - 1) + _low_rate_runs(IR2I_LOW_RATE_STEPS),
                   first=first, needs=(decoding.name, "inpainter-multiscale"))


def _r2i(variant: str, seed: int, role: str) -> ZooModel:
  """A progressive coder of Figure 3a. At `cpu` it trains `R2I_CPU_RUNS` runs of the
  preset's steps and then the low-rate runs, each continuing the last (`--init-coder`) with
  one learning-rate cycle of its own; at `paper`, the paper's schedule in one run."""
  return _cpu_runs(f"r2i-{variant}{'-seed1' if seed else ''}",
                   ("--variant", variant, "--seed", str(seed)),
                   f"{role}{', second seed (Figure 3a spread)' if seed else ''}",
                   ("--init-coder",),
                   [()] * R2I_CPU_RUNS + _low_rate_runs(R2I_LOW_RATE_STEPS))


def _training_order() -> List[int]:
  """Post-semantic qualities, each after the one it starts from."""
  order: List[int] = []
  while len(order) < len(RATE_POINTS):
    order += [point.quality for point in RATE_POINTS
              if point.quality not in order and (point.start is None or point.start in order)]
  return order


_R2I = tuple(_r2i(variant, seed, role)
             for variant, role in (
                 ("residual", "the residual encoder (Toderici et al.), Figure 3a / 5a's anchor"),
                 ("prediction", "R2I with prediction connections (Figure 3a)"),
                 ("full", "R2I with full connections (Figure 3a)"),
                 ("decoding", "R2I with decoding connections (Figures 3a and 5a, Table 2)"))
             for seed in (0, 1))
_DECODING = next(model for model in _R2I if model.name == "r2i-decoding")  # IR2I's start

MODELS: Tuple[ZooModel, ...] = (
    *(_deepsic("post", quality) for quality in _training_order()),
    *(_deepsic("pre", point.quality) for point in RATE_POINTS),
    ZooModel("deepsic-reference", "deepsic",
             ("--architecture", "reference", "--filters", str(RATE_POINTS[-1].filters),
              "--bottleneck-channels", str(CODE_CHANNELS), "--init",
              "{models}/" + REFERENCE_START),
             "the uncompressed reference classifier (Table I's VGG-16 / DenseNet row): "
             f"{REFERENCE_START}'s classifier h(f(x)) trained for classification alone",
             needs=(REFERENCE_START,), cpu_flags=REFERENCE_RUN),
    *_R2I,
    *(ZooModel(f"inpainter-{network}", "r2i",
               ("--variant", "ir2i", "--inpainting-only", "--network", network), role,
               cpu_flags=("--steps", str(INPAINTER_STEPS)))
      for network, role in (
          ("multiscale", "the multi-scale inpainting network trained alone (Table 1; frozen in "
                         "r2i-ir2i-separate, the start of r2i-ir2i's)"),
          ("vanilla", "the vanilla inpainting network (Table 1)"))),
    _ir2i(joint=True, decoding=_DECODING),
    _ir2i(joint=False, decoding=_DECODING),
)


def by_name(name: str) -> ZooModel:
  for model in MODELS:
    if model.name == name:
      return model
  raise KeyError(name)


def training_commands(model: ZooModel, dataset: str, preset: str, runs: Path, models: Path,
                      strategy: str = "default") -> List[List[str]]:
  """The command lines that train `model` into runs/<name>, in order: its warm-up run's
  first where it has one."""
  flags = [flag.replace("{models}", str(models)) for flag in model.flags]
  if preset == "cpu":
    flags += model.cpu_flags
  if strategy != "default":
    flags += ["--strategy", strategy]
  earlier: List[List[str]] = []
  earlier_run = model.earlier_run(preset)
  if earlier_run:
    earlier = training_commands(earlier_run, dataset, preset, runs, models, strategy)
    for flag in model.warmup_flags:
      flags += [flag, str(runs / earlier_run.name / "model")]
  return [*earlier, [sys.executable, families.by_name(model.trainer).train_script, *flags,
                     "--dataset", dataset, "--preset", preset, "--output",
                     str(runs / model.name)]]


def _flag_value(command: Sequence[str], flag: str, default: int) -> int:
  return int(command[command.index(flag) + 1]) if flag in command else default


def training_pixels(model: ZooModel) -> int:
  """What a DeepSIC model's training saw at `cpu`, steps x batch x crop area, over every
  run of its chain and of the shipped models it starts from: the budget the reference
  classifier matches (`deepsic_tf.presets.REFERENCE_RUN`)."""
  preset = DEEPSIC_PRESETS["cpu"]
  total = 0
  for command in training_commands(model, "folder:data", "cpu", Path("runs"), Path("models")):
    crop = _flag_value(command, "--patch-size", preset.patch_size)
    total += (_flag_value(command, "--steps", preset.steps)
              * _flag_value(command, "--batch-size", preset.batch_size) * crop * crop)
  return total + sum(training_pixels(by_name(name)) for name in model.needs)


def _budget(model: ZooModel) -> List[str]:
  """The reference's README line that sets its training beside the codecs'."""
  if model.name != "deepsic-reference":
    return []
  codecs = [entry for entry in MODELS if entry.trainer == "deepsic" and entry.is_codec]
  longest = max(codecs, key=training_pixels)
  return [f"- Budget at `cpu` (steps x batch x crop, every run, {', '.join(model.needs)}'s "
          f"chain included): {training_pixels(model):.3g} pixels, its own run on Table I's "
          f"224x224 crops; the longest DeepSIC chain, {longest.name}'s (through the models it "
          f"starts from), {training_pixels(longest):.3g}."]


def load(folder: Path, trainer: str):
  """The Keras model in a run's model/ or a shipped folder."""
  return families.by_name(trainer).load_model(folder)


def _earlier_runs(model: ZooModel, preset: str) -> int:
  earlier = model.earlier_run(preset)
  return 1 + _earlier_runs(earlier, preset) if earlier else 0


def _readme(model: ZooModel, summary: dict, command: str, wall_seconds: Optional[float]) -> str:
  earlier = _earlier_runs(model, summary["preset"])
  wall = ("not recorded" if wall_seconds is None else
          str(datetime.timedelta(seconds=round(wall_seconds))) + " on 2 CPU cores")
  validation = ", ".join(f"{key} {value:.4g}" for key, value in summary["validation"].items())
  return "\n".join([
      f"# {model.name}", "", model.role + ".", "",
      f"- Data: `{summary['dataset']}`, training split; validated on center crops of the "
      "validation split.",
      f"- Preset: `{summary['preset']}`, {summary['steps']} steps"
      + ({0: ".", 1: " after its warm-up run's (the first command)."}.get(
          earlier, f" after {earlier} earlier runs' (the first {earlier} commands).")),
      f"- Command: `{command}`",
      f"- Wall time: {wall}.", *_budget(model),
      f"- Validation at the end of training (float32 weights): {validation}.",
      "- Shipped as config.json and float16 weights (`compression_eval.shipped`); the figures "
      "in `reports/` are measured with these weights.",
      "- Use: `python scripts/export_savedmodel.py --model saved_models/"
      f"{model.name} --output exports/{model.name}`"
      + ("" if model.is_codec else " does not apply (not a codec); the tables load it "
         "directly."),
      "- Config and the whole training summary: `config.json`, `summary.json`."]
      + ([f"- Learning curve (validation {'PSNR and bpp' if model.is_codec else 'top-1 and loss'}"
          f" on {summary['curve_images']} center "
          "patches after every epoch): `learning_curve.png`", "",
          "![learning curve](learning_curve.png)"] if "curve_images" in summary else [])
      + [""])


def ship(model: ZooModel, run: Path, destination: Path, command: str,
         wall_seconds: Optional[float]) -> None:
  """Writes saved_models/<name>/ from a finished run folder, all at once."""
  if not (run / "summary.json").is_file():
    raise UserError(f"{run} has no summary.json: its training has not finished")
  summary = json.loads((run / "summary.json").read_text())
  summary["command"], summary["wall_seconds"] = command, wall_seconds
  # Imported here: both load TensorFlow or matplotlib, which listing the zoo does not need.
  from compression_eval.plots import plot_learning_curve  # pylint: disable=import-outside-toplevel
  from compression_eval.training import HISTORY_FILE  # pylint: disable=import-outside-toplevel
  keras_model = load(run / "model", model.trainer)
  history = run / HISTORY_FILE
  with atomic_directory(destination) as staging:
    if "curve_images" in summary and history.is_file():
      plot_learning_curve(history, staging / "learning_curve.png", summary["steps_per_epoch"],
                          f"{model.name}: validation during training")
    else:
      summary.pop("curve_images", None)
    shutil.copyfile(run / "model" / "config.json", staging / "config.json")
    shipped.write_weights(keras_model, staging / shipped.WEIGHTS_FILE)
    (staging / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (staging / "README.md").write_text(_readme(model, summary, command, wall_seconds))


def export_codec(model: ZooModel, folder: Path, exports: Path) -> Path:
  """The codec SavedModel of a shipped model, exported into exports/<name>/ once
  (`compression_eval.export_cache`)."""
  return export_cache.cached_codec(families.by_name(model.trainer), model.name, folder, exports)


def missing(models_dir: Path, names: Sequence[str]) -> List[str]:
  return [name for name in names if not (models_dir / name / shipped.WEIGHTS_FILE).is_file()]


def quoted(command: Sequence[str]) -> str:
  """A command as a user would type it: `python` and paths relative to the repository."""
  parts = ["python" if part == sys.executable else part for part in command]
  return shlex.join(parts)


def summaries(models_dir: Path) -> Dict[str, dict]:
  """Each shipped model's summary.json, by name."""
  return {model.name: json.loads((models_dir / model.name / "summary.json").read_text())
          for model in MODELS if (models_dir / model.name / "summary.json").is_file()}
