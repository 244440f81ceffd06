"""Where an R2I / IR2I training step spends its time on a 2-core CPU, and what sharding gives.

  python benchmarks/r2i_step.py --before adcc227

For each model at the `cpu` preset (one batch of the preset's size, held in memory, so
the input pipeline is out of the figure):
- ms a step through Keras `fit` (median of rounds, start-up steps not timed), as the
  training scripts run it: the whole batch on TensorFlow's default threads, and as
  shards of the batch side by side (`compression_eval.cpu_shards`, the trainer's
  default); with `--before REV`, also the step of the code at git revision REV (the
  rounds interleave the three, so the machine's drift hits all alike);
- the step with `jit_compile=True` (XLA);
- the share of the op time spent in convolutions (forward and both gradients), from a
  full trace of the same step (ops summed over both threads, so the shares, not the
  totals, compare with the wall time);
- two runs side by side, each on one thread: the steps a second the two cores give in
  all, against one run on both threads.
Every timing runs in a process of its own, since TensorFlow fixes its threads at start.
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import DEFAULT_WORK, REPO, median, publish, steps_per_second, table  # pylint: disable=wrong-import-position
from compression_eval.errors import ArgumentParser, UserError, run_cli  # pylint: disable=wrong-import-position

MODELS = {"r2i-residual": ("residual", False), "r2i-decoding": ("decoding", False),
          "inpainter": ("ir2i", True), "ir2i": ("ir2i", False)}


def _config_and_preset(name: str):
  from r2i_tf import train  # pylint: disable=import-outside-toplevel
  variant, inpainting_only = MODELS[name]
  config = train.config_for(variant, "cpu", inpainting_only=inpainting_only)
  return config, train.preset_for(config, "cpu")


def _model_and_batch(name: str, jit: bool = False, compiled: bool = True):
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from r2i_tf import train  # pylint: disable=import-outside-toplevel
  config, preset = _config_and_preset(name)
  model = train.build_model(config, preset, preset.steps) if compiled else train.new_model(config)
  if jit:
    model.compile(optimizer=model.optimizer, jit_compile=True)
  size = train.crop_size(config)
  batch = tf.random.stateless_uniform((preset.batch_size, size, size, 3), seed=(1, 2))
  return model, batch


def step_ms(name: str, steps: int, warmup: int, jit: bool = False, shards: int = 1) -> float:
  """Milliseconds per `fit` step on one batch in memory, in this process."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  model, batch = _model_and_batch(name, jit)
  model.shards = shards
  return 1000 / steps_per_second(model, tf.data.Dataset.from_tensors(batch).repeat(), steps,
                                 warmup)


# The same timing for the code of another revision (`--before`): it knows only the
# trainer's functions that every revision since R2I's presets has.
_BEFORE = """
import sys, tensorflow as tf
sys.path.insert(0, ".")
from r2i_tf import train
from benchmarks_common import steps_per_second
variant, inpainting_only, steps, warmup = sys.argv[1], sys.argv[2] == "1", *map(int, sys.argv[3:])
config = train.config_for(variant, "cpu", inpainting_only=inpainting_only)
preset = train.preset_for(config, "cpu")
model = train.build_model(config, preset, preset.steps)
size = train.crop_size(config)
batch = tf.random.stateless_uniform((preset.batch_size, size, size, 3), seed=(1, 2))
print(1000 / steps_per_second(model, tf.data.Dataset.from_tensors(batch).repeat(), steps, warmup))
"""


def timed_in_process(name: str, steps: int, warmup: int, *, shards: int = 1,
                     before: Path | None = None) -> float:
  """ms a step, timed in a fresh process on TensorFlow's default threads: as `shards`
  shards (threads set for them), or with the code checked out in `before`."""
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  if before is not None:
    variant, inpainting_only = MODELS[name]
    command = [sys.executable, "-c", _BEFORE, variant, str(int(inpainting_only)), str(steps),
               str(warmup)]
    output = subprocess.run(command, env=env, cwd=before, check=True, capture_output=True,
                            text=True).stdout
  else:
    command = [sys.executable, __file__, "--one", name, "--steps", str(steps), "--warmup",
               str(warmup), "--shards", str(shards)]
    output = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
  return float(output.split()[-1])


def op_shares(name: str, traces: int = 3) -> Dict[str, float]:
  """Op time per op type (ms a step, summed over threads) from full traces of the step."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  graph = tf.Graph()
  totals: Dict[str, float] = collections.Counter()
  with graph.as_default():
    model, batch = _model_and_batch(name, compiled=False)
    loss = model._objective(batch, training=True)  # pylint: disable=protected-access
    variables = model.trainable_variables
    update = tf.compat.v1.train.AdamOptimizer(1e-3).apply_gradients(
        zip(tf.gradients(loss, variables), variables))
    with tf.compat.v1.Session(graph=graph) as session:
      session.run(tf.compat.v1.global_variables_initializer())
      for _ in range(3):
        session.run(update)
      options = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
      for _ in range(traces):
        metadata = tf.compat.v1.RunMetadata()
        session.run(update, options=options, run_metadata=metadata)
        for device in metadata.step_stats.dev_stats:
          for node in device.node_stats:
            op = node.timeline_label.split("(")[0].split("=")[-1].strip() or node.node_name
            totals[op] += node.all_end_rel_micros / 1000 / traces
  return dict(totals)


def pair_steps_per_second(name: str, steps: int, warmup: int) -> Dict[str, float]:
  """Steps a second of one run on 2 threads, and of two concurrent runs on 1 thread each."""
  command = [sys.executable, __file__, "--one", name, "--steps", str(steps),
             "--warmup", str(warmup)]
  def run(threads: int, copies: int) -> float:
    env = dict(os.environ, TF_NUM_INTRAOP_THREADS=str(threads), TF_NUM_INTEROP_THREADS="1",
               TF_CPP_MIN_LOG_LEVEL="3")
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(copies)]
    return sum(1000 / float(run.communicate()[0].split()[-1]) for run in runs)
  return {"one_run_two_threads": run(2, 1), "two_runs_one_thread": run(1, 2)}


@contextlib.contextmanager
def checkout(revision: str | None) -> Iterator[Path | None]:
  """The repository at `revision`, in a temporary git worktree, with today's timing helpers
  beside it as `benchmarks_common` for `_BEFORE` (None: no checkout)."""
  if revision is None:
    yield None
    return
  with tempfile.TemporaryDirectory() as temporary:
    folder = Path(temporary) / "before"
    try:
      subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(folder),
                      revision], check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as error:
      raise UserError(f"--before {revision}: {error.stderr.strip().splitlines()[-1]}") from None
    try:
      (folder / "benchmarks_common.py").write_text((REPO / "benchmarks/common.py").read_text())
      yield folder
    finally:
      subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(folder)],
                     check=False, capture_output=True)


def measure(names: List[str], steps: int, warmup: int, rounds: int,
            before_revision: str | None) -> Dict[str, Any]:
  from compression_eval import cpu_shards  # pylint: disable=import-outside-toplevel
  figures: Dict[str, Any] = {"steps": steps, "rounds": rounds, "before": before_revision,
                             "cores": cpu_shards.cpu_cores(), "models": {}}
  with checkout(before_revision) as before:
    for name in names:
      ops = op_shares(name)
      batch = _config_and_preset(name)[1].batch_size
      shards = cpu_shards.shard_count(batch, None, gpu=False)
      timed: Dict[str, List[float]] = collections.defaultdict(list)
      for _ in range(rounds):
        if before is not None:
          timed["before"].append(timed_in_process(name, steps, warmup, before=before))
        timed["whole"].append(timed_in_process(name, steps, warmup))
        timed["sharded"].append(timed_in_process(name, steps, warmup, shards=shards))
      conv = sum(ms for op, ms in ops.items() if "Conv2D" in op)
      figures["models"][name] = {
          "batch": batch, "shards": shards,
          "ms_per_step": {kind: median(values) for kind, values in timed.items()},
          "all": dict(timed), "jit_ms_per_step": step_ms(name, max(steps // 4, 3), 3, jit=True),
          "conv_share": conv / sum(ops.values()),
          "top_ops": dict(sorted(ops.items(), key=lambda item: -item[1])[:6]),
          "throughput": pair_steps_per_second(name, steps, warmup)}
  return figures


def render(figures: Dict[str, Any]) -> str:
  rows = []
  for name, model in figures["models"].items():
    pair, ms = model["throughput"], model["ms_per_step"]
    base = ms.get("before", ms["whole"])
    rows.append([name, model["batch"], f"{ms['before']:.0f}" if "before" in ms else "-",
                 f"{ms['whole']:.0f}", f"{ms['sharded']:.0f} ({model['shards']} shards)",
                 f"{ms['sharded'] / base:.2f}", f"{model['jit_ms_per_step']:.0f}",
                 f"{100 * model['conv_share']:.0f} %", f"{pair['one_run_two_threads']:.2f}",
                 f"{pair['two_runs_one_thread']:.2f}"])
  before = figures.get("before") or "none"
  return table(f"R2I / IR2I training step, cpu preset, one batch in memory (median of "
               f"{figures['rounds']} rounds of {figures['steps']} steps, "
               f"{figures.get('cores', 2)}-core CPU; before: {before})",
               ["model", "batch", "ms / step, before", "ms / step, whole batch",
                "ms / step, sharded", "sharded / before", "ms / step, XLA", "convolutions",
                "steps / s, one run", "steps / s, two runs on 1 thread each"], rows)


def main(argv: List[str] | None = None) -> int:
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--models", default=",".join(MODELS),
                      help=f"comma-separated, of {', '.join(MODELS)}")
  parser.add_argument("--steps", type=int, default=40)
  parser.add_argument("--warmup", type=int, default=5)
  parser.add_argument("--rounds", type=int, default=3)
  parser.add_argument("--before", help="also time the step of this git revision's code "
                      "(adcc227: before issue 19's work)")
  parser.add_argument("--one", choices=tuple(MODELS), help=argparse.SUPPRESS)
  parser.add_argument("--shards", type=int, default=1, help=argparse.SUPPRESS)
  parser.add_argument("--json", default=str(DEFAULT_WORK / "r2i_step.json"))
  args = parser.parse_args(sys.argv[1:] if argv is None else argv)
  if args.one:  # one timing, in a subprocess of `measure`
    from compression_eval import cpu_shards  # pylint: disable=import-outside-toplevel
    cpu_shards.use_threads_for(args.shards)
    print(f"{step_ms(args.one, args.steps, args.warmup, shards=args.shards):.3f}")
    return 0
  names = args.models.split(",")
  unknown = sorted(set(names) - set(MODELS))
  if unknown:
    parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
  return publish(measure(names, args.steps, args.warmup, args.rounds, args.before), render,
                 args.json)


if __name__ == "__main__":
  run_cli(main)
