"""The paper presets on one GPU: what a training step costs there, whether mixed precision
and XLA pay, and whether a file coded on the GPU decodes on a CPU to the same pixels.

  python benchmarks/device_check.py            # one GPU, at most 8 minutes
  python benchmarks/device_check.py --smoke    # every stage on the CPU, at tiny sizes

DeepSIC (post-semantic), R2I (decoding connections) and IR2I each train at the `paper`
preset (widths, batch, crop) on Imagenette through their trainer's `prepare_data` and
`build_model`, with Keras `fit`, until a step cap or a time cap. For each:
- ms a step and images (training crops) a second, the start-up steps not timed;
- the peak GPU memory of its training (on a CPU, the process's peak resident memory);
- the mean loss of the first and of the last window of steps, and whether it fell;
- a short window of steps on one batch in memory: the trained model (plain float32),
  a new one under the 'mixed_float16' policy and a new one compiled with XLA
  (`jit_compile=True`), each variant's step against float32's; a variant that fails is
  reported in one line.
Each model's codec is exported (`compression_zoo.families`), the first Kodak image coded
and decoded in this process, and the file decoded again in a child process that sees no
GPU (CUDA_VISIBLE_DEVICES=""): the two images must be the same array.

Time: the models train and export first, then the decode check runs; the comparisons
come last, and none starts with less than a minute of the budget left (`--seconds`, 7
minutes by default, so that the run stays under 8 on one H100): it is reported as skipped.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import DEFAULT_WORK, REPO, publish, seconds, steps_per_second, table  # pylint: disable=wrong-import-position
from compression_eval import memory  # pylint: disable=wrong-import-position
from compression_eval.errors import ArgumentParser, UserError, run_cli  # pylint: disable=wrong-import-position
from compression_eval.locations import SHARED  # pylint: disable=wrong-import-position

MODELS = {"deepsic": "DeepSIC post-semantic", "r2i": "R2I decoding connections",
          "ir2i": "IR2I (joint)"}
FAMILY = {"deepsic": "deepsic", "r2i": "r2i", "ir2i": "r2i"}  # compression_zoo.families
VARIANTS = ("float32", "mixed_float16", "xla")
DEFAULT_OUTPUT = REPO / "docs" / "benchmarks" / "device_check.json"
SMOKE_OUTPUT = DEFAULT_WORK / "device_check_smoke.json"

# What --smoke shrinks, so that the whole run takes a minute or two on two CPU cores (at
# paper sizes, tracing the 8-stage coders and one IR2I step of 32 crops take 10-50 s each
# there; XLA's compiles, 10-15 s a model even at these sizes, are most of what is left):
# the widths (to the test fixtures' tiny models), the coders' stages (2, which IR2I's first
# code fills), the inpainter (2 layers of 2 filters a dilation), DeepSIC's crop (32) and
# every batch (2). R2I's 32x32 patches and IR2I's 64x64 crops are the models' own and stay.
SMOKE_DEEPSIC = {"filters": 8, "bottleneck_channels": 8, "head_filters": 8, "head_units": 16,
                 "patch_size": 32}
SMOKE_CODER = {"encoder_filters": (4, 8, 8, 8), "decoder_filters": (8, 8, 8, 4, 4), "stages": 2}
SMOKE_INPAINTER = {"filters": 2, "layers": 2}
SMOKE_BATCH = 2


@dataclasses.dataclass(frozen=True)
class Plan:
  """How long each stage of a run may take.

  Attributes:
    smoke: tiny sizes on the CPU (the SMOKE_* constants).
    train_steps, train_seconds: a model trains until either is reached (after at least
      `warmup` + 4 steps, so that there is a time and two loss windows to report).
    warmup: start-up steps (tracing, autotuning) left out of every step time.
    compare_steps: timed steps of each precision / XLA variant, after `warmup`.
    compare_seconds: the most one variant is expected to take (build, compile, steps):
      none starts with less left of the budget.
  """
  smoke: bool
  train_steps: int
  train_seconds: float
  warmup: int
  compare_steps: int
  compare_seconds: float


# Full: a few hundred steps a model, 45 s at most each (an H100 is expected to take
# 30-100 ms a paper-size step, so the step cap usually binds first); the comparisons get
# what the training, the exports and the decode check leave of the budget.
FULL = Plan(smoke=False, train_steps=300, train_seconds=45, warmup=5, compare_steps=30,
            compare_seconds=60)
SMOKE = Plan(smoke=True, train_steps=6, train_seconds=60, warmup=2, compare_steps=2,
             compare_seconds=0)


@dataclasses.dataclass(frozen=True)
class Trainee:
  """One model as its trainer builds and feeds it."""
  build: Callable[[], Any]  # a new compiled model
  data: Any  # the training tf.data.Dataset, repeated
  batch: int
  crop: int


def _deepsic(imagenet: str, plan: Plan) -> Trainee:
  from deepsic_tf import train  # pylint: disable=import-outside-toplevel
  from deepsic_tf.presets import PRESETS  # pylint: disable=import-outside-toplevel
  preset = PRESETS["paper"]
  if plan.smoke:
    preset = dataclasses.replace(preset, batch_size=SMOKE_BATCH, **SMOKE_DEEPSIC)
  data = train.prepare_data(f"folder:{imagenet}", preset, preset.batch_size, seed=0)
  config = train.config_for("post", "paper", data.info, **preset.widths)
  return Trainee(lambda: train.build_model(config, preset, preset.steps), data.train,
                 preset.batch_size, preset.patch_size)


def _r2i(variant: str, imagenet: str, plan: Plan) -> Trainee:
  from r2i_tf import train  # pylint: disable=import-outside-toplevel
  from r2i_tf.config import IR2IConfig  # pylint: disable=import-outside-toplevel
  config = train.config_for(variant, "paper")
  preset = train.preset_for(config, "paper")
  if plan.smoke:
    preset = dataclasses.replace(preset, batch_size=SMOKE_BATCH)
    if isinstance(config, IR2IConfig):
      config = dataclasses.replace(
          config, coder=dataclasses.replace(config.coder, **SMOKE_CODER),
          inpainter=dataclasses.replace(config.inpainter, **SMOKE_INPAINTER))
    else:
      config = dataclasses.replace(config, **SMOKE_CODER)
  crop = train.crop_size(config)
  data = train.prepare_data(f"folder:{imagenet}", preset.batch_size, patch_size=crop)
  return Trainee(lambda: train.build_model(config, preset, preset.steps), data.train,
                 preset.batch_size, crop)


def trainees(imagenet: str, plan: Plan) -> Dict[str, Trainee]:
  return {"deepsic": _deepsic(imagenet, plan), "r2i": _r2i("decoding", imagenet, plan),
          "ir2i": _r2i("ir2i", imagenet, plan)}


def _reset_peak(gpu: bool) -> float:
  """Starts a new memory peak; returns the MB in use now (what earlier models still hold)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  if gpu:
    tf.config.experimental.reset_memory_stats("GPU:0")
    return tf.config.experimental.get_memory_info("GPU:0")["current"] / 2**20
  memory.reset_peak()
  return memory.resident_mb()


def _peak_mb(gpu: bool) -> float:
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  if gpu:
    return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
  return memory.peak_mb()


# Lines of TensorFlow's and Keras' error texts that frame the error rather than say it.
_FRAMING = re.compile(r"(Exception encountered when calling|in user code:|Call arguments received"
                      r"|File \"|\u2022)")


def _one_line(error: BaseException) -> str:
  """What went wrong in one line: the error's own line (TensorFlow puts it after a trace of
  the user code, Keras between lines about the layer), and the last place in the repository
  the trace names."""
  lines = [line.strip() for line in str(error).splitlines() if line.strip()]
  causes = [line for line in lines if re.match(r"\w+(Error|Exception): ", line)]
  said = [line for line in lines if not _FRAMING.match(line)]
  cause = causes[-1] if causes else f"{type(error).__name__}: {(said or lines or [''])[0]}"
  places = re.findall(r'File "' + re.escape(str(REPO)) + r'/([^"]+)", line (\d+)', str(error))
  where = f" (at {places[-1][0]}:{places[-1][1]})" if places else ""
  return (cause + where)[:300]


def window_means(running: List[float], window: int) -> Tuple[float, float]:
  """(mean loss of the first `window` steps, of the last `window`) from the epoch's running
  means that Keras logs after each step (the models' loss metric is a `Mean`)."""
  steps = len(running)
  before_last = (steps - window) * running[steps - window - 1] if steps > window else 0.0
  return running[window - 1], (steps * running[-1] - before_last) / window


def train_one(trainee: Trainee, plan: Plan, gpu: bool) -> Tuple[Any, Dict[str, Any]]:
  """(the trained model, its figures): `fit` until the step cap or the time cap."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  ends: List[float] = []
  running: List[float] = []
  least = plan.warmup + 4
  before = _reset_peak(gpu)
  model = trainee.build()

  def record(batch: int, logs: Dict[str, Any]) -> None:  # pylint: disable=unused-argument
    ends.append(time.perf_counter())
    running.append(float(logs["loss"]))  # waits for the step: each step's end is its own
    if len(ends) >= least and ends[-1] - start > plan.train_seconds:
      model.stop_training = True

  start = time.perf_counter()
  model.fit(trainee.data, epochs=1, steps_per_epoch=plan.train_steps, verbose=0,
            callbacks=[tf.keras.callbacks.LambdaCallback(on_train_batch_end=record)])
  steps = len(ends)
  step_s = (ends[-1] - ends[plan.warmup - 1]) / (steps - plan.warmup)
  window = max(1, min(50, steps // 4))
  first, last = window_means(running, window)
  return model, {"batch": trainee.batch, "crop": trainee.crop, "steps": steps,
                 "first_step_s": ends[0] - start, "step_ms": 1000 * step_s,
                 "images_per_s": trainee.batch / step_s, "peak_memory_mb": _peak_mb(gpu),
                 "memory_before_mb": before,
                 "loss_window": window, "loss_first": first, "loss_last": last,
                 "loss_fell": bool(last < first)}


@contextlib.contextmanager
def _policy(name: str) -> Iterator[None]:
  """Keras' global dtype policy `name` while models are built, float32 after."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  tf.keras.mixed_precision.set_global_policy(name)
  try:
    yield
  finally:
    tf.keras.mixed_precision.set_global_policy("float32")


def _variant(trainee: Trainee, trained: Any, variant: str) -> Any:
  if variant == "float32":
    return trained  # its step is traced already
  if variant == "mixed_float16":
    with _policy(variant):
      return trainee.build()  # compile wraps the optimizer in a LossScaleOptimizer
  model = trainee.build()
  model.compile(optimizer=model.optimizer, jit_compile=True)
  return model


def compare(trainee: Trainee, trained: Any, plan: Plan, left: Callable[[], float]
            ) -> Dict[str, Dict[str, Any]]:
  """Each variant's ms a step on one batch in memory, and its ratio to float32's."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  batch = tf.data.Dataset.from_tensors(next(iter(trainee.data))).repeat()
  results: Dict[str, Dict[str, Any]] = {}
  for variant in VARIANTS:
    if left() < plan.compare_seconds:
      results[variant] = {"skipped": "the time budget is spent"}
      continue
    start = time.perf_counter()
    try:
      model = _variant(trainee, trained, variant)
      rate = steps_per_second(model, batch, plan.compare_steps, plan.warmup)
      loss = float(model.get_metrics_result()["loss"])
      results[variant] = {"step_ms": 1000 / rate, "loss_finite": math.isfinite(loss)}
    # A variant may fail anywhere in TensorFlow (a dtype clash, an op XLA has no kernel
    # for, memory): whatever it is, it is that variant's result.
    except Exception as error:  # pylint: disable=broad-except
      results[variant] = {"error": _one_line(error)}
    results[variant]["wall_s"] = time.perf_counter() - start
  base = results["float32"].get("step_ms")
  for variant in VARIANTS[1:]:
    if base and "step_ms" in results[variant]:
      results[variant]["ratio"] = results[variant]["step_ms"] / base
      results[variant]["pays"] = results[variant]["ratio"] < 1
  return results


def _file_codec(name: str, path: Path) -> Any:
  """The evaluation codec (`compression_eval.codecs.FileCodec`) of an exported model."""
  from compression_zoo import families  # pylint: disable=import-outside-toplevel
  family = families.by_name(FAMILY[name])
  return family.evaluation_codecs[family.name](str(path))


def export(name: str, model: Any, folder: Path) -> Path:
  from compression_zoo import families  # pylint: disable=import-outside-toplevel
  path = folder / name / "codec"
  families.by_name(FAMILY[name]).export_codec(model, path)
  return path


def decode_check(exports: Dict[str, Path], image_path: Path, folder: Path, timeout: float
                 ) -> Dict[str, Dict[str, Any]]:
  """Codes the image with every codec here, decodes each file here and in a child process
  that sees no GPU, and compares the two images of each model."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  from compression_eval.images import read_rgb8  # pylint: disable=import-outside-toplevel
  image = read_rgb8(image_path)
  here, manifest, results = {}, {}, {}
  for name, path in exports.items():
    codec = _file_codec(name, path)
    data = codec.files(image)[-1][1]  # R2I's: every stage
    (folder / f"{name}.bin").write_bytes(data)
    here[name] = codec.decode(data)
    manifest[name] = {"codec": str(path), "file": str(folder / f"{name}.bin")}
    results[name] = {"bytes": len(data)}
  (folder / "manifest.json").write_text(json.dumps(manifest))
  env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="3")
  try:
    subprocess.run([sys.executable, __file__, "--decode-on-cpu", str(folder)], env=env,
                   check=True, capture_output=True, text=True, timeout=timeout)
  except subprocess.CalledProcessError as error:
    failure = f"the CPU decode failed: {(error.stderr.strip().splitlines() or ['?'])[-1]}"
  except subprocess.TimeoutExpired:
    failure = f"the CPU decode took more than {timeout:.0f} s"
  else:
    there = np.load(folder / "decoded.npz")
    for name, pixels in here.items():  # one file, one header: the shapes agree
      diff = np.abs(pixels.astype(np.int16) - there[name].astype(np.int16))
      results[name].update(identical=not diff.any(), values_differing=int(np.count_nonzero(diff)),
                           max_levels=int(diff.max()))
    return results
  return {name: {**result, "identical": False, "error": failure}
          for name, result in results.items()}


def decode_on_cpu(folder: Path) -> None:
  """The child of `decode_check`: each file in the manifest decoded, into decoded.npz."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  manifest = json.loads((folder / "manifest.json").read_text())
  np.savez(folder / "decoded.npz", **{
      name: _file_codec(name, Path(entry["codec"])).decode(Path(entry["file"]).read_bytes())
      for name, entry in manifest.items()})


def measure(plan: Plan, imagenet: str, kodak_image: Path, budget: float) -> Dict[str, Any]:
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  begin = time.perf_counter()

  def left() -> float:
    return budget - (time.perf_counter() - begin)

  tf.keras.utils.set_random_seed(0)
  gpus = tf.config.list_physical_devices("GPU")
  gpu = bool(gpus)
  figures: Dict[str, Any] = {
      "mode": "smoke" if plan.smoke else "full", "budget_s": budget,
      "device": (tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
                 if gpu else "CPU"),
      "memory": "GPU:0 peak (get_memory_info)" if gpu else "process peak resident memory",
      "plan": dataclasses.asdict(plan), "models": {}}
  if plan.smoke:
    figures["smoke_sizes"] = {"deepsic": SMOKE_DEEPSIC, "coder": SMOKE_CODER,
                              "inpainter": SMOKE_INPAINTER, "batch": SMOKE_BATCH}
  with tempfile.TemporaryDirectory() as scratch:
    trained, exports = {}, {}
    models = trainees(imagenet, plan)
    for name, trainee in models.items():
      print(f"training {MODELS[name]} ...", flush=True)
      trained[name], figures["models"][name] = train_one(trainee, plan, gpu)
      figures["models"][name]["export_s"], exports[name] = seconds(
          lambda: export(name, trained[name], Path(scratch)))  # pylint: disable=cell-var-from-loop
    print("decode check ...", flush=True)
    figures["decode_check_image"] = kodak_image.name
    figures["decode_check_s"], figures["decode_check"] = seconds(
        lambda: decode_check(exports, kodak_image, Path(scratch), max(left(), 120.0)))
    for name, trainee in models.items():
      print(f"float32 / mixed_float16 / XLA: {MODELS[name]} ...", flush=True)
      figures["models"][name]["variants"] = compare(trainee, trained[name], plan, left)
  figures["wall_s"] = time.perf_counter() - begin
  return figures


def _variant_cell(result: Dict[str, Any]) -> str:
  if "skipped" in result:
    return f"skipped: {result['skipped']}"
  if "error" in result:
    return f"failed: {result['error']}"
  if "ratio" not in result:
    return f"{result['step_ms']:.1f} ms"
  return (f"{result['step_ms']:.1f} ms ({result['ratio']:.2f}x: "
          f"{'pays' if result['pays'] else 'does not pay'})")


def _pixels_cell(check: Dict[str, Any]) -> str:
  if check["identical"]:
    return "same"
  return check.get("error") or (f"different: {check['values_differing']} values, up to "
                                f"{check['max_levels']} levels")


def render(figures: Dict[str, Any]) -> str:
  rows = []
  for name, model in figures["models"].items():
    variants = model["variants"]
    rows.append([MODELS[name], f"{model['batch']} x {model['crop']}^2", model["steps"],
                 f"{model['step_ms']:.1f}", f"{model['images_per_s']:.0f}",
                 f"{model['peak_memory_mb']:.0f}",
                 f"{model['loss_first']:.4g} -> {model['loss_last']:.4g} "
                 f"({'fell' if model['loss_fell'] else 'did not fall'})",
                 *(_variant_cell(variants[variant]) for variant in VARIANTS)])
  checks = [[MODELS[name], check["bytes"], _pixels_cell(check)]
            for name, check in figures["decode_check"].items()]
  return (table(f"Paper presets on {figures['device']} ({figures['mode']} run, "
                f"{figures['wall_s']:.0f} s; memory: {figures['memory']})",
                ["model", "batch x crop", "steps", "ms / step", "images / s", "peak MB",
                 "loss, first -> last window", "float32", "mixed_float16 (vs float32)",
                 "XLA (vs float32)"], rows)
          + "\n" + table(f"{figures['decode_check_image']} coded on {figures['device']}, "
                         "decoded in a process without a GPU", ["model", "bytes", "pixels"],
                         checks))


def main(argv: List[str] | None = None) -> int:
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--smoke", action="store_true",
                      help="every stage on the CPU at tiny sizes, in a minute or two")
  parser.add_argument("--imagenet-dir", default=str(SHARED / "data" / "imagenette"),
                      help="ImageNet-layout folder (train/, val/) to train on")
  parser.add_argument("--kodak-dir", default=str(SHARED / "data" / "kodak"))
  parser.add_argument("--seconds", type=float, default=420,
                      help="the run's time budget (default 420: under 8 minutes in all)")
  parser.add_argument("--output", help=f"JSON of the figures (default {DEFAULT_OUTPUT}, "
                      f"with --smoke {SMOKE_OUTPUT})")
  parser.add_argument("--decode-on-cpu", type=Path, help=argparse.SUPPRESS)
  args = parser.parse_args(sys.argv[1:] if argv is None else argv)
  if args.seconds <= 0:
    parser.error("--seconds must be positive")
  if args.decode_on_cpu:  # the child of `decode_check`
    decode_on_cpu(args.decode_on_cpu)
    return 0
  for split in ("train", "val"):
    if not (Path(args.imagenet_dir) / split).is_dir():
      raise UserError(f"no {split}/ folder in {args.imagenet_dir}")
  images = sorted(Path(args.kodak_dir).glob("kodim*.png"))
  if not images:
    raise UserError(f"no Kodak images (kodim*.png) in {args.kodak_dir}")
  if args.smoke:
    os.environ["CUDA_VISIBLE_DEVICES"] = ""  # before TensorFlow starts
  output = args.output or (SMOKE_OUTPUT if args.smoke else DEFAULT_OUTPUT)
  figures = measure(SMOKE if args.smoke else FULL, args.imagenet_dir, images[0], args.seconds)
  return publish(figures, render, str(output))


if __name__ == "__main__":
  run_cli(main)
