"""Reproduces the papers' tables from the shipped models, ours beside the papers' figures.

  python scripts/reproduce_tables.py --kodak-dir ../shared/data/kodak \
      --imagenet-dir ../shared/data/imagenette

Evaluates the models in saved_models/ (`compression_zoo.zoo`) and writes <out>/tables.md
(every table, the papers' figures beside ours, and which of the papers' findings hold at
this scale), <out>/results.json, <out>/kodak/<curve>.json and the RD plots, and prints
the tables. DeepSIC: Table I (Imagenette val) and Figures 6-7 (Kodak, against JPEG,
JPEG 2000, WebP and AVIF); paper 2: Figure 3a, Table 1, Figure 5a and Table 2. Beside
them, <out>/fig5_*.png (DeepSIC's Fig. 5: image parts at very low rates) and, from the
training logs in --figure-4-logs, <out>/fig4_training_loss.png (R2I's Fig. 4)
(`compression_zoo.figures`).

With --train, every model missing from --models is first trained into <work-dir>/runs/
with the command its README gives, and shipped into --models; --preset paper trains at
the papers' scale (a GPU job; give it its own --models folder).
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TF's C++ start-up noise off the output
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # see evaluate_inpainting.py

from compression_eval import provenance  # pylint: disable=wrong-import-position
from compression_eval import shipped  # pylint: disable=wrong-import-position
from compression_eval.errors import ArgumentParser, UserError, run_cli  # pylint: disable=wrong-import-position
from compression_eval.fileio import atomic_write_text, ensure_dir  # pylint: disable=wrong-import-position
from compression_eval.locations import REPO, SHARED  # pylint: disable=wrong-import-position
from compression_zoo import figures, paper_tables, zoo  # pylint: disable=wrong-import-position
from r2i_tf.config import first_code_suffix  # pylint: disable=wrong-import-position

ANCHORS = SHARED / "anchors" / "paper_tables"
BASELINES = ("jpeg", "jpeg2000", "webp", "avif")
# Table I classifies whole Imagenette images (224x224; center crops of larger ones).
# Figure 3a's two trained seeds of each variant; the first seeds are its curves.
R2I_SEEDS = {variant: (f"r2i-{variant}", f"r2i-{variant}-seed1")
             for variant in ("residual", "prediction", "full", "decoding")}
R2I_CURVES = tuple(seeds[0] for seeds in R2I_SEEDS.values())
IR2I_CURVES = ("r2i-ir2i-separate", "r2i-ir2i")
# Table 1's networks: our row name, the shipped model, its kind (the paper's row).
INPAINTING_NETWORKS = (("multiscale", "inpainter-multiscale", "multiscale"),
                       ("vanilla", "inpainter-vanilla", "vanilla"),
                       ("joint", "r2i-ir2i", None))


def parse_args(argv: List[str]):
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--kodak-dir", required=True, help="folder with kodim01.png ... kodim24.png")
  parser.add_argument("--imagenet-dir", required=True,
                      help="ImageNet-layout folder (train/ and val/<wnid>/*.JPEG), e.g. "
                      "../shared/data/imagenette")
  parser.add_argument("--preset", choices=("cpu", "paper"), default="cpu",
                      help="the scale the models were (or --train trains them) at")
  parser.add_argument("--train", action="store_true",
                      help="train and ship every model missing from --models first")
  parser.add_argument("--only", help="with --train: train just these models (comma-separated "
                      "names, e.g. one machine's share), ship them and stop")
  parser.add_argument("--strategy", choices=("default", "mirrored", "multiworker"),
                      default="default", help="with --train: the trainers' tf.distribute "
                      "strategy (mirrored: every GPU of the machine)")
  parser.add_argument("--models", default=str(REPO / "saved_models"), help="shipped models")
  parser.add_argument("--out", default=str(REPO / "reports"), help="report folder")
  parser.add_argument("--work-dir", default=str(REPO / "runs" / "reproduce"),
                      help="exported codecs (kept between runs) and --train's run folders")
  parser.add_argument("--anchors", default=str(ANCHORS),
                      help="the papers' tables as CSV; tables print without them if missing")
  parser.add_argument("--data-dir", help="tensorflow-datasets data dir for the Kodak build")
  parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                      help="images coded in parallel processes")
  parser.add_argument("--remeasure-baselines", action="store_true",
                      help="code Kodak with JPEG, JPEG 2000, WebP and AVIF again even where "
                      "<out>/kodak/ holds their curves for the same library versions and images")
  parser.add_argument("--limit", type=int, help="only the first N Kodak images (quick checks)")
  parser.add_argument("--inpainting-fraction", type=float, default=0.25,
                      help="Table 1 on a seeded random sample of each image's blocks (default "
                      "a quarter, 2,304 of 9,216, to fit 30 minutes on 2 cores; 1 for all)")
  parser.add_argument("--figure-4-logs", default=str(figures.FIGURE_4_LOGS),
                      help="folder with full.json and decoding.json, the stage-loss logs of "
                      "two R2I runs (scripts/train_r2i.py writes them as stage_losses.json) "
                      "that Figure 4 draws")
  return parser.parse_args(argv)


def train_missing(models: Path, runs: Path, imagenet_dir: str, preset: str, strategy: str,
                  only: List[str]) -> None:
  """Trains (or resumes) each model missing from `models`, then ships it there. A run
  whose folder under `runs` holds a finished run (its summary.json) is not trained again:
  IR2I's chain starts with decoding's first runs, which decoding's own chain trained."""
  for model in zoo.MODELS:
    if not zoo.missing(models, [model.name]) or (only and model.name not in only):
      continue
    commands = zoo.training_commands(model, f"folder:{imagenet_dir}", preset, runs, models,
                                     strategy)
    start = time.perf_counter()
    for command in commands:
      output = Path(command[command.index("--output") + 1])
      if (output / "summary.json").is_file():
        print(f"training {model.name}: {output} is a finished run; not trained again",
              flush=True)
        continue
      print(f"training {model.name}: {zoo.quoted(command)}", flush=True)
      code = subprocess.run(command, cwd=REPO, check=False).returncode
      if code:
        raise UserError(f"training {model.name} failed (exit {code}); rerun the same command "
                        "to resume it")
    zoo.ship(model, runs / model.name, models / model.name,
             " && ".join(zoo.quoted(command) for command in commands),
             time.perf_counter() - start)


def check_shipped(models: Path, preset: str) -> None:
  absent = zoo.missing(models, [model.name for model in zoo.MODELS])
  if absent:
    raise UserError(f"{models} lacks {', '.join(absent)}: add --train to train them")
  for name, summary in zoo.summaries(models).items():
    if summary.get("preset") != preset:
      raise UserError(f"{models / name} was trained at --preset {summary.get('preset')}, "
                      f"not {preset}")


def binariser_saturation(models: Path) -> Dict[str, List[float]]:
  """Each shipped progressive coder's mean |tanh| per stage, from its run's validation."""
  saturation = {}
  for name, summary in zoo.summaries(models).items():
    validation = summary.get("validation", {})
    stages = sorted((int(key.rsplit("_", 1)[1]), value) for key, value in validation.items()
                    if key.startswith("abs_tanh_"))
    if stages:
      saturation[name] = [value for _, value in stages]
  return saturation


def measure_accuracy(models: Path, imagenet_dir: str) -> Dict[str, dict]:
  """Table I: every DeepSIC model and the reference on the validation split."""
  from deepsic_tf.accuracy import accuracy, table_one_batches  # pylint: disable=import-outside-toplevel
  batches = table_one_batches(f"folder:{imagenet_dir}")
  return {model.name: accuracy(zoo.load(models / model.name, "deepsic"), batches)
          for model in zoo.MODELS if model.trainer == "deepsic"}


def deepsic_architectures(models: Path) -> Dict[str, str]:
  """Each shipped DeepSIC model's architecture ("pre", "post", "reference"), by name, in
  the zoo's order, as its config says."""
  return {model.name: json.loads((models / model.name / "config.json").read_text())
          ["architecture"] for model in zoo.MODELS if model.trainer == "deepsic"}


def classic_curves(images, jobs: int, out: Path, remeasure: bool, pool=None) -> Dict[str, object]:
  """The classic codecs' curves, reused from <out>/kodak/ while nothing they depend on changed.

  Their description names the codec's settings and the images; their provenance, when
  and with which library versions they were measured. A curve is reused only where both
  match what measuring again would use, so it is what measuring again would give.
  """
  from compression_eval import rd  # pylint: disable=import-outside-toplevel
  from compression_zoo import evaluate, registry  # pylint: disable=import-outside-toplevel
  curves, installed = {}, provenance.versions()
  for name in BASELINES:
    codec = registry.make_codec(name)
    description = f"{codec.description}; the first {len(images)} Kodak images"
    cached = out / "kodak" / f"{name}.json"
    if not remeasure and cached.is_file():
      curve = rd.read_json(cached)
      measured_with = {key: curve.provenance.get(key) for key in installed}
      if curve.description == description and measured_with == installed:
        curves[name] = curve
        print(f"Kodak: {name} (measured on {curve.provenance.get('utc')} with the same "
              f"libraries and images: {cached})", file=sys.stderr, flush=True)
        continue
      print(f"Kodak: {name} (the curve in {cached} was measured with other libraries or "
            "images: measuring again)", file=sys.stderr, flush=True)
    else:
      print(f"Kodak: {name}", file=sys.stderr, flush=True)
    curves[name] = evaluate.evaluate_codec(name, images, jobs=jobs, codec=codec, pool=pool)
    curves[name].description = description
    curves[name].provenance = provenance.record()
  return curves


# What results.json keeps of each learned model's every Kodak image, so that a test
# (tests/test_shipped_models.py) can code an image again and compare.
PER_IMAGE_KEYS = ("setting", "bpp", "psnr-rgb", "ms-ssim-rgb")


# The models whose bits Table 2 also measures range-coded (beyond the paper, which
# leaves entropy coding out): with the adaptive model (`r2i_tf.entropy`, curve
# <model>-entropy-coded) and with the learned bit model (`r2i_tf.learned_entropy`,
# <model>-learned).
ENTROPY_CODED = ("r2i-decoding", "r2i-ir2i")
# IR2I also coded with a first code of stage 1 alone (beyond the paper, whose first code
# is stages 1-2; docs/ir2i_first_code.md), raw and with the learned bit model:
# <model>-first1 and <model>-first1-learned.
FIRST_CODE_1 = first_code_suffix(1)
FIRST_CODE_1_CODED = ("r2i-ir2i",)
# DeepSIC's curves coded with the context-adaptive coder (`deepsic_tf.context_coding`, the
# paper's CABAC) are named deepsic-<architecture>-context; the model's own entropy model
# (the factorized prior) keeps deepsic-<architecture>.
CONTEXT = "-context"
DEEPSIC_CURVES = ("deepsic-pre", "deepsic-post", "deepsic-pre-context", "deepsic-post-context")


def _first_code_1_curves() -> List[str]:
  """The curves of IR2I with a one-stage first code: raw bits, then the learned model."""
  return [f"{name}{FIRST_CODE_1}{suffix}" for name in FIRST_CODE_1_CODED
          for suffix in ("", paper_tables.ENTROPY_CODINGS[-1][1])]


def _per_image_figures(records: Dict[str, list]) -> Dict[str, list]:
  """Each image's records, cut to the figures the report keeps (`PER_IMAGE_KEYS`)."""
  return {image: [{key: record[key] for key in PER_IMAGE_KEYS} for record in image_records]
          for image, image_records in records.items()}


def _kodak_codings(model: zoo.ZooModel, architectures: Dict[str, str]) -> List[str]:
  """The codings (registry kinds) Kodak measures of a shipped codec: its own first, as the
  other codings of its bits reuse its pass."""
  kinds = [model.trainer]
  if model.name in architectures:
    kinds.append("deepsic-context")
  if model.name in ENTROPY_CODED:  # Table 2's rows beyond the paper
    kinds += ["r2i-ec", "r2i-learned"]
    if model.name in FIRST_CODE_1_CODED:
      kinds += [f"r2i{FIRST_CODE_1}", f"r2i-learned{FIRST_CODE_1}"]
  return kinds


def measure_kodak(models: Path, exports: Path, images, pool, out: Path,
                  remeasure: bool) -> Tuple[Dict[str, object], Dict[str, dict]]:
  """Every Kodak curve: the classic codecs, DeepSIC (one curve per architecture), R2I, IR2I;
  and each shipped model's figures per image (`PER_IMAGE_KEYS`, per setting).

  The `pool`'s workers (`evaluate.worker_pool`) export the codecs and then measure every
  model, so TensorFlow starts once per worker, not once per model; a model's codings
  (DeepSIC's two entropy models, R2I's raw and range-coded bits) are measured together
  on each image, sharing its networks' pass and metrics (`evaluate.evaluate_codecs`), and
  the models' images go to the workers as one stream (`evaluate.evaluate_groups`).
  """
  from compression_eval import rd  # pylint: disable=import-outside-toplevel
  from compression_zoo.evaluate import evaluate_groups  # pylint: disable=import-outside-toplevel
  codecs = [model for model in zoo.MODELS if model.is_codec]
  architectures = deepsic_architectures(models)
  deepsic_points: Dict[str, list] = {f"deepsic-{arch}{coding}": []
                                     for coding in ("", CONTEXT) for arch in ("pre", "post")}
  per_image: Dict[str, dict] = {}
  curves = classic_curves(images, 1, out, remeasure, pool)  # the pool's workers measure them
  print(f"exporting {len(codecs)} codecs", file=sys.stderr, flush=True)
  paths = pool.starmap(zoo.export_codec, [(model, models / model.name, exports)
                                          for model in codecs], chunksize=1)
  kinds_of = [_kodak_codings(model, architectures) for model in codecs]
  records = [[{} for _ in kinds] for kinds in kinds_of]
  groups = [[f"{kind}:{path}" for kind in kinds] for kinds, path in zip(kinds_of, paths)]
  started = time.perf_counter()
  measured_groups = evaluate_groups(groups, images, pool, per_image=records)
  for model, kinds, measured, group_records in zip(codecs, kinds_of, measured_groups, records):
    print(f"Kodak: {model.name} ({', '.join(kinds)}) measured at "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    for kind, curve, image_records in zip(kinds, measured, group_records):
      if model.name in architectures:
        coding = CONTEXT if kind == "deepsic-context" else ""
        curve.name = model.name
        deepsic_points[f"deepsic-{architectures[model.name]}{coding}"].append(curve)
        per_image[f"{model.name}{coding}"] = _per_image_figures(image_records)
      else:
        curves[curve.name] = curve
        per_image[curve.name] = _per_image_figures(image_records)
  for name, points in deepsic_points.items():
    points.sort(key=lambda point: point.results["bpp"][0])  # zoo order is training order
    coding = "context-coded" if name.endswith(CONTEXT) else "its own entropy model"
    curves[name] = rd.join_points(
        name, f"DeepSIC {name.split('-')[1]}-semantic, {coding}, one model per rate "
        f"({', '.join(point.name for point in points)})", points)
  for curve in curves.values():
    rd.write_json(curve, out / "kodak" / f"{curve.name}.json")
  return curves, per_image


def measure_inpainting(models: Path, images, jobs: int, fraction: float):
  """Table 1: every Kodak block inpainted from its partial context, per inpainter."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  from compression_eval import partial_context  # pylint: disable=import-outside-toplevel
  from r2i_tf.inpainting import partial_context_inpainter  # pylint: disable=import-outside-toplevel
  inpainters = dict(partial_context.CLASSICAL)
  descriptions = dict(partial_context.DESCRIPTIONS)
  paper_rows = dict(partial_context.PAPER_ROWS)
  for row, name, kind in INPAINTING_NETWORKS:
    inpainters[row] = partial_context_inpainter(zoo.load(models / name, "r2i").inpainter)
    descriptions[row] = f"{kind or 'joint IR2I'} network ({name})"
    paper_rows[row] = partial_context.PAPER_ROWS.get(kind or "", "")
  scores = partial_context.evaluate([image for _, image in images], inpainters,
                                    parallel=partial_context.PARALLEL, jobs=jobs,
                                    fraction=fraction)
  means = {name: float(np.mean(values)) for name, values in scores.items()}
  return means, descriptions, paper_rows, len(next(iter(scores.values())))


def plots(curves, out: Path, count: int) -> List[str]:
  from compression_eval.plots import plot_rd  # pylint: disable=import-outside-toplevel
  groups = {"deepsic": [*DEEPSIC_CURVES, *BASELINES],
            "r2i": [*R2I_CURVES, "jpeg"], "ir2i": ["r2i-residual", "r2i-decoding", *IR2I_CURVES,
                                                   "jpeg"]}
  written = []
  for group, names in groups.items():
    metrics = paper_tables.DEEPSIC_METRICS if group == "deepsic" else ("ms-ssim-rgb",
                                                                         "ssim-rgb")
    for metric in metrics:
      path = out / f"rd_{group}_{metric}.png"
      plot_rd([curves[name] for name in names if name in curves], metric, path,
              title=f"Kodak ({count} images, CPU scale)")
      written.append(path.name)
  return written


def build_tables(args, accuracy, curves, inpainting, saturation: Dict[str, List[float]]
                 ) -> Dict[str, paper_tables.Table]:
  anchors = Path(args.anchors)
  paper = lambda table: paper_tables.read_paper(anchors, table)  # pylint: disable=unnecessary-lambda-assignment
  deepsic = list(deepsic_architectures(Path(args.models)).items())
  kodak_bpp = {}
  for architecture in ("pre", "post"):  # the rate of the coder the CLI uses: context-coded
    curve = curves.get(f"deepsic-{architecture}{CONTEXT}", curves[f"deepsic-{architecture}"])
    kodak_bpp.update(zip(curve.results["setting"], curve.results["bpp"]))
  order = sorted(deepsic, key=lambda item: (item[1] == "reference", kodak_bpp.get(item[0], 0)))
  means, descriptions, paper_rows, blocks = inpainting
  two_metrics = (("ssim-rgb", "ssim_rate_savings_pct"), ("ms-ssim-rgb", "msssim_rate_savings_pct"))
  return {
      "table_i": paper_tables.table_i(accuracy, kodak_bpp, order, paper("table_i")),
      "figures_6_7_points": paper_tables.points_beside(
          curves, [name for name in DEEPSIC_CURVES if name in curves], ["jpeg", "jpeg2000"],
          ["psnr-rgb", "ms-ssim-rgb"]),
      "figures_6_7": paper_tables.savings_table(
          "Figures 6-7: DeepSIC and the classic codecs on Kodak", curves, "jpeg",
          [(name, "") for name in (*DEEPSIC_CURVES, "jpeg2000", "webp", "avif")],
          [(metric, "") for metric in paper_tables.DEEPSIC_METRICS], paper_tables.DEEPSIC_RANGE,
          []),
      "figure_3a": paper_tables.savings_table(
          "Figure 3a: R2I's connections", curves, "r2i-residual",
          [("r2i-prediction", "r2i_prediction"), ("r2i-full", "r2i_full"),
           ("r2i-decoding", "r2i_decoding")], two_metrics, paper_tables.R2I_RANGE,
          paper("figure_3a")),
      "figure_3a_seeds": paper_tables.seed_pairs(
          "Figure 3a across seeds: each seed against each residual-encoder seed", curves,
          [(anchor, name) for anchor in R2I_SEEDS["residual"]
           for seeds in R2I_SEEDS.values() for name in seeds if name != anchor],
          "ms-ssim-rgb", paper_tables.R2I_RANGE),
      "table_1": paper_tables.table_1(means, descriptions, paper_rows, paper("table_1"), blocks),
      "figure_5a": paper_tables.savings_table(
          "Figure 5a: inpainting", curves, "r2i-residual",
          [("r2i-decoding", "r2i_decoding"),
           ("r2i-ir2i-separate", "r2i_decoding_separate_inpainting"),
           ("r2i-ir2i", "r2i_decoding_joint_inpainting_ir2i")], two_metrics,
          paper_tables.R2I_RANGE, paper("figure_5a")),
      "figure_5a_direct": paper_tables.seed_pairs(
          "Figure 5a against R2I decoding: each IR2I against each decoding seed", curves,
          [(anchor, name) for anchor in R2I_SEEDS["decoding"] for name in IR2I_CURVES[::-1]],
          "ms-ssim-rgb", paper_tables.R2I_RANGE),
      "r2i_stages": paper_tables.stage_health(curves, saturation),
      "table_2": paper_tables.savings_table(
          "Table 2: against JPEG (MS-SSIM RGB)", curves, "jpeg",
          [("r2i-residual", "residual_encoder_toderici2016"), ("r2i-decoding", "r2i_decoding"),
           ("r2i-ir2i", "ir2i"),
           *((f"{name}{suffix}", "") for _, suffix in paper_tables.ENTROPY_CODINGS[1:]
             for name in ENTROPY_CODED),
           *((name, "") for name in _first_code_1_curves()),
           ("jpeg2000", "jpeg2000"), ("webp", "webp"), ("avif", ""),
           *((name, "") for name in DEEPSIC_CURVES)],
          (("ms-ssim-rgb", "rate_savings_pct"),), (0.0, 1.0), paper("table_2")),
      # Table 2 averages each row over the qualities it shares with JPEG; IR2I's curve
      # starts at its two-stage first code, decoding's at one stage, so their rows average
      # over different ranges. Over one shared range, and head to head, they compare.
      "table_2_shared": paper_tables.savings_table(
          "Table 2's entropy-coded R2I rows on the quality range they all share", curves,
          "jpeg", [(f"{name}{suffix}", "") for _, suffix in paper_tables.ENTROPY_CODINGS
                   for name in ENTROPY_CODED] + [(name, "") for name in _first_code_1_curves()],
          (("ms-ssim-rgb", ""),), (0.0, 1.0), [], shared_quality=True),
      "table_2_direct": paper_tables.seed_pairs(
          "IR2I against R2I decoding, each with the same entropy coding", curves,
          [(f"{ENTROPY_CODED[0]}{suffix}", f"{ir2i}{suffix}")
           for ir2i in (ENTROPY_CODED[1], f"{ENTROPY_CODED[1]}{FIRST_CODE_1}")
           for _, suffix in paper_tables.ENTROPY_CODINGS],  # pairs not measured are left out
          "ms-ssim-rgb", (0.0, 1.0)),
  }


def render(results: Dict[str, object]) -> str:
  """tables.md from results.json alone: the tables, then the figures."""
  return paper_tables.render_report(results) + "\n" + figures.markdown(results["figures"])


def main(argv: List[str] | None = None) -> int:
  args = parse_args(sys.argv[1:] if argv is None else argv)
  for flag, folder in (("--kodak-dir", args.kodak_dir), ("--imagenet-dir", args.imagenet_dir)):
    if not Path(folder).is_dir():
      raise UserError(f"{flag} folder not found: {folder}")
  if not (Path(args.imagenet_dir) / "val").is_dir():
    raise UserError(f"{args.imagenet_dir} has no val/ folder (ImageNet layout)")
  if args.jobs < 1 or (args.limit is not None and args.limit < 1):
    raise UserError("--jobs and --limit must be at least 1")
  if not 0.0 < args.inpainting_fraction <= 1.0:
    raise UserError("--inpainting-fraction must be in (0, 1]")
  models, work = Path(args.models), Path(args.work_dir)
  out = ensure_dir(args.out)
  ensure_dir(out / "kodak")
  only = [name.strip() for name in (args.only or "").split(",") if name.strip()]
  unknown = sorted(set(only) - {model.name for model in zoo.MODELS})
  if unknown or (only and not args.train):
    raise UserError(f"unknown model {', '.join(unknown)}; known: "
                    f"{', '.join(model.name for model in zoo.MODELS)}" if unknown else
                    "--only goes with --train")
  if args.train:
    train_missing(ensure_dir(models), work / "runs", args.imagenet_dir, args.preset,
                  args.strategy, only)
    if only:
      print(f"trained and shipped into {models}: {', '.join(only)}")
      return 0
  check_shipped(models, args.preset)
  # Before the measurements, so that a broken training log fails at once, not at the end.
  figure_4 = figures.draw_figure_4(Path(args.figure_4_logs), out)

  from compression_eval.datasets import load_kodak  # pylint: disable=import-outside-toplevel
  from compression_zoo.evaluate import worker_pool  # pylint: disable=import-outside-toplevel
  seconds, started = {}, time.perf_counter()
  kodak = load_kodak(args.kodak_dir, data_dir=args.data_dir)
  images = kodak[:args.limit]
  accuracy = measure_accuracy(models, args.imagenet_dir)
  seconds["table_i"] = time.perf_counter() - started
  with worker_pool(args.jobs) as pool:  # TensorFlow starts once per worker for both
    curves, per_image = measure_kodak(models, work / "exports", images, pool, out,
                                      args.remeasure_baselines)
    seconds["kodak"] = time.perf_counter() - started - sum(seconds.values())
    figure_5 = figures.draw_figure_5(kodak, models, work / "exports", work, out, pool)
    seconds["figures"] = time.perf_counter() - started - sum(seconds.values())
  inpainting = measure_inpainting(models, images, args.jobs, args.inpainting_fraction)
  seconds["table_1"] = time.perf_counter() - started - sum(seconds.values())

  tables = build_tables(args, accuracy, curves, inpainting, binariser_saturation(models))
  deepsic_rates = {arch: [row["model"] for row in tables["table_i"].rows
                          if row["architecture"] == arch]
                   for arch in ("pre", "post")}
  found = paper_tables.findings(accuracy, deepsic_rates, tables["figure_3a"],
                                tables["figure_5a"], inpainting[0],
                                seeds=tables["figure_3a_seeds"],
                                ir2i_direct=tables["figure_5a_direct"],
                                stages=tables["r2i_stages"])
  found += paper_tables.entropy_coding_findings(tables["table_2"], tables["table_2_shared"],
                                                tables["table_2_direct"])
  pictures = plots(curves, out, len(images))
  drawn = {"figure_5": figure_5, "figure_4": figure_4}
  seconds["total"] = time.perf_counter() - started
  results = {
      "preset": args.preset, "kodak_images": len(images), "seconds": seconds,
      "report": {"validation_images": next(iter(accuracy.values()))["images"],
                 "imagenet_dir": args.imagenet_dir, "models": str(models), "plots": pictures},
      "provenance": provenance.record(),
      "baselines": {name: curves[name].provenance for name in BASELINES},
      "weights": {model.name: shipped.weights_digest(models / model.name)
                  for model in zoo.MODELS if (models / model.name).is_dir()},
      "tables": {key: dataclasses.asdict(table) for key, table in tables.items()},
      "findings": [vars(item) for item in found], "figures": drawn, "per_image": per_image}
  # Through JSON first, so that tables.md is exactly what results.json renders to.
  results = json.loads(json.dumps(results, default=str))
  report = render(results)
  atomic_write_text(out / "results.json", json.dumps(results, indent=1) + "\n")
  atomic_write_text(out / "tables.md", report)
  print(report)
  print(f"wrote {out}/tables.md, results.json, kodak/, {len(pictures)} plots "
        f"(timings: {', '.join(f'{k} {v:.0f} s' for k, v in seconds.items())})", file=sys.stderr)
  return 0


entry_point = functools.partial(run_cli, main)  # the installed console script


if __name__ == "__main__":
  entry_point()
