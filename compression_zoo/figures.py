"""The papers' figures of pictures and training curves, drawn beside the tables by
`reproduce_tables`: DeepSIC's Fig. 5 and R2I's Fig. 4.

Fig. 5 (`compression_zoo.figure_5`) shows 192x192 parts of three Kodak images, chosen for
detail of three kinds that low rates lose first: kodim05's helmets with their lettering
and numbers (edges and text), kodim13's stones and driftwood on the stream's bank
(natural texture), kodim14's faces and the raft's lettering (faces and text). Each image
is coded whole by JPEG, JPEG 2000, WebP, DeepSIC pre-semantic (the shipped models, one per
rate), R2I with decoding connections and IR2I, at about 0.25 and 0.5 bpp (the paper's are
about 0.1 and 0.2 bpp, below what our lowest-rate DeepSIC model writes). They are also
images on which that model writes at least 0.25 bpp (0.26-0.31 with the shipped models),
so that DeepSIC's panel of the 0.25 row is from that model, near the others' rates, not
from the next one at twice the rate. Coding them takes about a minute and a half on two
busy cores.

Fig. 4 (`r2i_tf.stage_losses`) is drawn from the stage-loss logs of two training runs,
full and decoding connections on the same schedule, copied into `docs/fig4_runs/`
(`full.json`, `decoding.json`); it trains nothing. Without those logs it is left out,
with a note.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Dict, List, Mapping, Sequence, Tuple

import numpy as np

from compression_eval.locations import REPO
from compression_zoo import figure_5, zoo
from compression_zoo.figure_5 import Column, Crop

FIGURE_5_CROPS = {
    "kodim05": Crop(top=16, left=384, size=192),
    "kodim13": Crop(top=264, left=24, size=192),
    "kodim14": Crop(top=224, left=432, size=192),
}
FIGURE_5_TARGETS = (0.25, 0.5)
# The figure's learned columns: label, shipped models.
FIGURE_5_LEARNED = (("DeepSIC pre", tuple(f"deepsic-pre-q{q}" for q in range(1, 5))),
                    ("R2I decoding", ("r2i-decoding",)), ("IR2I", ("r2i-ir2i",)))
FIGURE_5_CLASSIC = (("JPEG", "jpeg"), ("JPEG 2000", "jpeg2000"), ("WebP", "webp"))
FIGURE_4_LOGS = REPO / "docs" / "fig4_runs"
FIGURE_4_RUNS = ("full", "decoding")


def _shipped_spec(name: str, models: Path, exports: Path) -> str:
  """The registry spec of a shipped model's codec, exported into `exports` once (as the
  Kodak curves use it)."""
  model = zoo.by_name(name)
  return f"{model.trainer}:{zoo.export_codec(model, models / name, exports)}"


def figure_5_columns(models: Path, exports: Path) -> List[Column]:
  """The classic codecs, then the learned ones from the shipped models in `models`."""
  return ([Column(label, ((spec, spec),)) for label, spec in FIGURE_5_CLASSIC]
          + [Column(label, tuple((name, _shipped_spec(name, models, exports)) for name in names))
             for label, names in FIGURE_5_LEARNED])


def _shown(path: Path) -> str:
  """A path as tables.md shows it: relative to the checkout when inside it."""
  resolved = path.resolve()
  return str(resolved.relative_to(REPO)) if resolved.is_relative_to(REPO) else str(path)


def draw_figure_4(logs: Path, out: Path) -> Dict[str, object]:
  """Draws <out>/fig4_training_loss.png from the runs' logs in `logs`; says what it drew,
  or why it drew nothing (a log missing)."""
  from r2i_tf import stage_losses  # pylint: disable=import-outside-toplevel
  paths = {run: logs / f"{run}.json" for run in FIGURE_4_RUNS}
  missing = [_shown(path) for path in paths.values() if not path.is_file()]
  if missing:
    print(f"Figure 4: not drawn, {', '.join(missing)} missing", file=sys.stderr, flush=True)
    return {"missing": missing}
  runs = {run: stage_losses.read(path) for run, path in paths.items()}
  series = stage_losses.figure_4(runs, out / "fig4_training_loss.png")
  return {"plot": "fig4_training_loss.png",
          "logs": {run: _shown(path) for run, path in paths.items()},
          "stages": sorted(next(iter(series.values()))),
          "every": {run: losses.every for run, losses in runs.items()},
          "convergence": {run: {str(stage): stage_losses.convergence(*drawn[stage])
                                for stage in drawn} for run, drawn in series.items()},
          "steps": {run: losses.steps[-1] for run, losses in runs.items()}}


def draw_figure_5(kodak: Sequence[Tuple[str, np.ndarray]], models: Path, exports: Path,
                  work: Path, out: Path, pool=None) -> Dict[str, object]:
  """Draws <out>/fig5_<image>.png from the Kodak images ((name, image) pairs) and the
  shipped models in `models`, keeping the files shown in <work>/figure_5; what
  results.json records of it. A `pool`'s workers code the images (`figure_5.draw`)."""
  print("Figure 5: coding its image parts", file=sys.stderr, flush=True)
  shown = figure_5.draw(dict(kodak), FIGURE_5_CROPS, FIGURE_5_TARGETS,
                        figure_5_columns(models, exports), work / "figure_5", out, pool)
  return {"plots": [f"fig5_{name}.png" for name in FIGURE_5_CROPS],
          "targets": list(FIGURE_5_TARGETS),
          "crops": {name: dataclasses.asdict(crop) for name, crop in FIGURE_5_CROPS.items()},
          "shown": [dataclasses.asdict(panel) for panel in shown]}


def markdown(figures: Mapping[str, Mapping]) -> str:
  """The figures' section of tables.md, from what `draw_figure_5` and `draw_figure_4`
  returned (through results.json, under "figure_5" and "figure_4")."""
  fig5, fig4 = figures["figure_5"], figures["figure_4"]
  crops = "; ".join(f"{name}'s {crop['size']}x{crop['size']} from (x {crop['left']}, y "
                    f"{crop['top']})" for name, crop in fig5["crops"].items())
  targets = " or ".join(f"{target:g}" for target in fig5["targets"])
  lines = [
      "## Figures\n",
      "### DeepSIC Fig. 5: image parts at very low rates\n",
      "Each image is coded whole by every codec; a row shows, for each codec, the file of the "
      f"lowest rate at or above the row's target ({targets} bpp) among all the files it can "
      "write for that image (JPEG, JPEG 2000 and WebP: every quality setting of their Kodak "
      "curves; DeepSIC pre-semantic: the four shipped models, one per rate; R2I decoding and "
      "IR2I: every stage count of their progressive files). The file is written, read back "
      "and decoded; its label is its size in bits over the whole image's pixels and the "
      "PSNR (RGB) of the whole decoded image. The parts are " + crops + ", chosen for edges "
      "and lettering, natural texture, and faces (`compression_zoo/figures.py`).\n",
      "\n".join(f"![{name}]({name})" for name in fig5["plots"]) + "\n",
      "### R2I Fig. 4: training loss by stage, full against decoding connections\n"]
  if "missing" in fig4:
    lines.append("Not drawn: the training logs " + ", ".join(f"`{path}`" for path in
                                                           fig4["missing"]) + " are missing.\n")
    return "\n".join(lines)
  runs = ", ".join(f"{run} {fig4['steps'][run]} steps, a value every {fig4['every'][run]}"
                   for run in fig4["logs"])
  lines += [
      "Each stage's mean training loss (its squared error on the [-1, 1] scale, Eq. 2) over "
      "the steps since the last value, against iterations, for stages "
      f"{', '.join(map(str, fig4['stages']))}, from two runs of `scripts/train_r2i.py` on "
      f"the same schedule, `--variant full` and `--variant decoding` ({runs}): the trainer's "
      "`stage_losses.json`, copied to "
      + " and ".join(f"`{path}`" for path in fig4["logs"].values()) + ".\n",
      f"![{fig4['plot']}]({fig4['plot']})\n", _convergence_table(fig4["convergence"])]
  return "\n".join(lines)


def _convergence_table(convergence: Mapping[str, Mapping[str, Mapping[str, float]]]) -> str:
  """The paper's reading of Figure 4 (decoding converges faster, lower and with less
  variance than full), measured: each curve's end, when it came within 10 % of it, and its
  variation at the end (`r2i_tf.stage_losses.convergence`)."""
  runs = list(convergence)
  stages = list(next(iter(convergence.values())))
  rows = ["| stage | " + " | ".join(f"{run}: end / reached at / variation" for run in runs)
          + " |", "|---|" + "---|" * len(runs)]
  for stage in stages:
    rows.append(f"| {stage} | " + " | ".join(
        "{end:.4f} / {reached:.0f} / {variation:.4f}".format(**convergence[run][stage])
        for run in runs) + " |")
  return ("The paper: decoding connections converge faster, to a lower loss, with less "
          "variance than full ones. Measured (end: mean of the last tenth of the values; "
          "reached at: the first step within 10 % of it; variation: their standard deviation "
          "about a straight line):\n\n" + "\n".join(rows) + "\n")
