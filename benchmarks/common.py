"""What the benchmarks share: shipped codecs, Kodak images, timing, output.

Benchmarks are scripts, not tests: they print tables and write JSON. Learned codecs come
from `saved_models/` (exported once into the work folder, as scripts/reproduce_tables.py
does), so every figure is reproducible from the repository alone.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from compression_eval.errors import UserError  # pylint: disable=wrong-import-position
from compression_eval.fileio import atomic_write_text  # pylint: disable=wrong-import-position

# The shipped models the benchmarks time: a mid-rate DeepSIC, R2I with decoding
# connections and IR2I (the paper's best of each family).
MODELS = {"deepsic": "deepsic-post-q2", "r2i": "r2i-decoding", "ir2i": "r2i-ir2i"}
DEFAULT_WORK = REPO / "runs" / "benchmarks"


def export(kind: str, work: Path = DEFAULT_WORK) -> Path:
  """The codec SavedModel of a benchmarked shipped model (exported once, then reused)."""
  return export_model(MODELS[kind], work)[1]


def export_model(name: str, work: Path = DEFAULT_WORK) -> Tuple[str, Path]:
  """(registry kind, codec SavedModel) of the shipped codec `name` (exported once)."""
  from compression_zoo import zoo  # pylint: disable=import-outside-toplevel
  folder = REPO / "saved_models" / name
  known = {model.name: model for model in zoo.MODELS if model.is_codec}
  if name not in known:
    raise UserError(f"{name} is not a shipped codec (one of {', '.join(known)})")
  if not folder.is_dir():
    raise UserError(f"shipped model {folder} is missing")
  return known[name].trainer, zoo.export_codec(known[name], folder, work / "exports")


def kodak_paths(kodak_dir: str, count: int) -> List[Path]:
  paths = sorted(Path(kodak_dir).glob("kodim*.png"))
  if len(paths) < count:
    raise UserError(f"{kodak_dir} holds {len(paths)} Kodak images, fewer than {count}")
  return paths[:count]


def seconds(call: Callable[[], Any]) -> Tuple[float, Any]:
  start = time.perf_counter()
  result = call()
  return time.perf_counter() - start, result


def steps_per_second(model, dataset, steps: int, warmup: int) -> float:
  """Keras `fit` steps a second over `steps` steps, after `warmup` untimed ones."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  ends: List[float] = []
  clock = tf.keras.callbacks.LambdaCallback(
      on_train_batch_end=lambda batch, logs: ends.append(time.perf_counter()))
  model.fit(dataset, epochs=1, steps_per_epoch=warmup + steps, callbacks=[clock], verbose=0)
  return steps / (ends[-1] - ends[warmup - 1])


def median(values: Sequence[float]) -> float:
  return statistics.median(values) if values else float("nan")


def table(title: str, header: Sequence[str], rows: List[Sequence[Any]]) -> str:
  """A Markdown table, numbers as given (callers format them)."""
  lines = [f"### {title}", "", "| " + " | ".join(header) + " |",
           "|" + "---|" * len(header)]
  lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
  return "\n".join(lines) + "\n"


def write_json(path: Path, figures: Dict[str, Any]) -> None:
  atomic_write_text(path, json.dumps(figures, indent=2, default=float) + "\n")


def publish(figures: Any, render: Callable[[Any], str], path: str) -> int:
  """What a benchmark script ends with: its table printed, its figures as JSON; exit 0."""
  print(render(figures))
  write_json(Path(path), figures)
  return 0
