"""The trained models the papers' tables need: how each is trained, shipped and exported.

`saved_models/<name>/` holds what `compression_eval.shipped` writes (config and float16
weights) beside the run's summary and a README that says what data, preset, command and
time made the model and what it measured. `scripts/reproduce_tables.py` trains the
missing ones with `--train` (the same commands) and exports the codecs it evaluates.
"""
from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import shlex
import shutil
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from compression_eval import shipped
from compression_eval.errors import UserError
from compression_eval.fileio import atomic_directory

REPO = Path(__file__).resolve().parents[1]
TRAINERS = {"deepsic": "scripts/train_deepsic.py", "r2i": "scripts/train_r2i.py"}
# DeepSIC's four rate points (the paper's 0.25 / 0.5 / 1.0 / 1.5 bpp), q1 to q4: one code
# size (128 channels at the stride of 16, a B-bit ceiling of 3 bpp, so that no point sits
# at its ceiling) and lambda1, which sets the rate once the transforms carry detail
# (docs/deepsic_ablation.md: 0.42, 0.89, 1.17 bpp for lambda1 0.0025, 0.01, 0.04 at 64
# channels; 0.57 bpp on Kodak for 0.015 at 128 channels after 40,000 steps). Points start
# from a trained neighbour (`--init`), as rate points of one architecture usually are: the
# transforms carry over, and the rate moves toward the new lambda1. Each pre-semantic
# model starts from the post-semantic one of its rate (same weights; the head then learns
# to read the unquantised features).
DEEPSIC_CODE_CHANNELS = 128


@dataclasses.dataclass(frozen=True)
class RatePoint:
  """One DeepSIC rate point.

  Attributes:
    quality: 1 to 4, by rising rate.
    lambda_distortion: lambda1.
    steps: --steps at the cpu preset.
    filters: the transforms' width.
    start: the point whose post-semantic model this one starts from, or None.
    warmup: (lambda1, steps) of a run from scratch that this one starts from instead.
  """
  quality: int
  lambda_distortion: float
  steps: int
  filters: int
  start: Optional[int] = None
  warmup: Optional[Tuple[float, int]] = None


# The upper points are wider: at 48 filters the transforms, not the rate, limit the
# quality above about 0.6 bpp (lambda1 0.15 gave 28.61 dB at 0.763 bpp). At 96 filters the
# steps still limit it: 40,000 steps at lambda1 0.1 from scratch gave 30.81 dB at 1.606 bpp,
# and 16,000 more at 0.03 30.84 dB at 1.149 bpp. So q4 is that longer run, and q3 starts
# from it at a lower lambda1.
DEEPSIC_POINTS = (RatePoint(1, 0.001, 12_000, 48, start=2),
                  RatePoint(2, 0.015, 40_000, 48),
                  RatePoint(3, 0.008, 8_000, 96, start=4),
                  RatePoint(4, 0.03, 16_000, 96, warmup=(0.1, 40_000)))
DEEPSIC_PRE_STEPS = 8_000
DEEPSIC_REFERENCE_STEPS = 20_000


@dataclasses.dataclass(frozen=True)
class ZooModel:
  """One shipped model.

  Attributes:
    name: its folder under saved_models/ (and its run folder under the work dir).
    trainer: "deepsic" or "r2i": the training script and the loader.
    flags: the training script's flags besides --dataset, --preset and --output; `{models}`
      stands for the folder of shipped models.
    role: what the tables use it for, one line.
    needs: shipped models the flags name, trained first.
    cpu_flags: flags added at `--preset cpu` only.
    warmup: a run trained first (into its own run folder, not shipped) that this one
      starts from (`--init`).
  """
  name: str
  trainer: str
  flags: Tuple[str, ...]
  role: str
  needs: Tuple[str, ...] = ()
  cpu_flags: Tuple[str, ...] = ()
  warmup: Optional["ZooModel"] = None

  @property
  def is_codec(self) -> bool:
    """Whether the model exports a codec (inpainters and the reference classifier do not)."""
    return not (self.name.startswith("inpainter-") or self.name == "deepsic-reference")


def _deepsic_flags(architecture: str, filters: int, lambda_distortion: float) -> Tuple[str, ...]:
  return ("--architecture", architecture, "--bottleneck-channels", str(DEEPSIC_CODE_CHANNELS),
          "--filters", str(filters), "--lambda", str(lambda_distortion))


def _deepsic(architecture: str, quality: int) -> ZooModel:
  point = DEEPSIC_POINTS[quality - 1]
  name = f"deepsic-{architecture}-q{quality}"
  start, steps, warmup = point.start, point.steps, None
  if architecture == "pre":
    start, steps = quality, DEEPSIC_PRE_STEPS
  elif point.warmup:
    warmup_lambda, warmup_steps = point.warmup
    warmup = ZooModel(f"{name}-warmup", "deepsic",
                      _deepsic_flags(architecture, point.filters, warmup_lambda),
                      f"the run {name} starts from", cpu_flags=("--steps", str(warmup_steps)))
  init = f"deepsic-post-q{start}" if start is not None else None
  return ZooModel(
      name, "deepsic",
      (*_deepsic_flags(architecture, point.filters, point.lambda_distortion),
       *(("--init", "{models}/" + init) if init else ())),
      f"DeepSIC {architecture}-semantic at rate point {quality} of 4 (lambda1 "
      f"{point.lambda_distortion}, {point.filters} filters): a Table I row and a point of "
      "Figures 6-7",
      needs=(init,) if init else (), cpu_flags=("--steps", str(steps)), warmup=warmup)


def _training_order() -> List[int]:
  """Post-semantic qualities, each after the one it starts from."""
  order: List[int] = []
  while len(order) < len(DEEPSIC_POINTS):
    order += [point.quality for point in DEEPSIC_POINTS
              if point.quality not in order and (point.start is None or point.start in order)]
  return order


MODELS: Tuple[ZooModel, ...] = (
    *(_deepsic("post", quality) for quality in _training_order()),
    *(_deepsic("pre", point.quality) for point in DEEPSIC_POINTS),
    ZooModel("deepsic-reference", "deepsic", ("--architecture", "reference"),
             "the uncompressed reference classifier (Table I's VGG-16 / DenseNet row)",
             cpu_flags=("--steps", str(DEEPSIC_REFERENCE_STEPS))),
    ZooModel("r2i-residual", "r2i", ("--variant", "residual"),
             "the residual encoder (Toderici et al.), Figure 3a / 5a's anchor"),
    ZooModel("r2i-prediction", "r2i", ("--variant", "prediction"),
             "R2I with prediction connections (Figure 3a)"),
    ZooModel("r2i-full", "r2i", ("--variant", "full"), "R2I with full connections (Figure 3a)"),
    ZooModel("r2i-decoding", "r2i", ("--variant", "decoding"),
             "R2I with decoding connections (Figures 3a and 5a, Table 2)"),
    ZooModel("inpainter-multiscale", "r2i", ("--variant", "ir2i", "--inpainting-only"),
             "the multi-scale inpainting network trained alone (Table 1; frozen in "
             "r2i-ir2i-separate)"),
    ZooModel("inpainter-vanilla", "r2i",
             ("--variant", "ir2i", "--inpainting-only", "--network", "vanilla"),
             "the vanilla inpainting network (Table 1)"),
    ZooModel("r2i-ir2i", "r2i", ("--variant", "ir2i"),
             "IR2I, inpainting trained jointly (Figure 5a, Table 2)"),
    ZooModel("r2i-ir2i-separate", "r2i",
             ("--variant", "ir2i-separate", "--inpainter", "{models}/inpainter-multiscale"),
             "R2I decoding on a frozen, separately trained inpainter (Figure 5a)",
             needs=("inpainter-multiscale",)),
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
  if model.warmup:
    earlier = training_commands(model.warmup, dataset, preset, runs, models, strategy)
    flags += ["--init", str(runs / model.warmup.name / "model")]
  return [*earlier, [sys.executable, TRAINERS[model.trainer], *flags, "--dataset", dataset,
                     "--preset", preset, "--output", str(runs / model.name)]]


def load(folder: Path, trainer: str):
  """The Keras model in a run's model/ or a shipped folder."""
  # Imported here: each package loads TensorFlow models, which listing the zoo does not need.
  if trainer == "deepsic":
    from deepsic_tf.train import load_model  # pylint: disable=import-outside-toplevel
  else:
    from r2i_tf.train import load_model  # pylint: disable=import-outside-toplevel
  return load_model(folder)


def _readme(model: ZooModel, summary: dict, command: str, wall_seconds: Optional[float]) -> str:
  wall = ("not recorded" if wall_seconds is None else
          str(datetime.timedelta(seconds=round(wall_seconds))) + " on 2 CPU cores")
  validation = ", ".join(f"{key} {value:.4g}" for key, value in summary["validation"].items())
  return "\n".join([
      f"# {model.name}", "", model.role + ".", "",
      f"- Data: `{summary['dataset']}`, training split; validated on center crops of the "
      "validation split.",
      f"- Preset: `{summary['preset']}`, {summary['steps']} steps.",
      f"- Command: `{command}`",
      f"- Wall time: {wall}.",
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


# Raised whenever the exported graphs change (4: DeepSIC in tiles), so that older exports
# are redone.
EXPORT_LAYOUT = 4


def fingerprint(folder: Path) -> str:
  """What a shipped model's exports depend on: its config, weights and the export layout."""
  digest = hashlib.sha256(str(EXPORT_LAYOUT).encode())
  for name in ("config.json", shipped.WEIGHTS_FILE):
    digest.update((folder / name).read_bytes())
  return digest.hexdigest()


def export_codec(model: ZooModel, folder: Path, exports: Path) -> Path:
  """The codec SavedModel of a shipped model, exported into exports/<name>/ once.

  A stamp of the shipped files' fingerprint says whether an earlier export is current.
  """
  target = exports / model.name
  stamp = target / "fingerprint"
  current = fingerprint(folder)
  if stamp.is_file() and stamp.read_text() == current and (target / "codec").is_dir():
    return target / "codec"
  keras_model = load(folder, model.trainer)
  with atomic_directory(target) as staging:
    if model.trainer == "deepsic":
      from deepsic_tf.codec import export  # pylint: disable=import-outside-toplevel
    else:
      from r2i_tf.codec import export  # pylint: disable=import-outside-toplevel
    export(keras_model, str(staging / "codec"))
    (staging / "fingerprint").write_text(current)
  return target / "codec"


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
