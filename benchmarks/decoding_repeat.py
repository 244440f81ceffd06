"""How repeatable a float decoder's pixels are: one file decoded many times in one process.

R2I's decoder runs its networks in float32. With oneDNN (TensorFlow's default on x86),
how a convolution's work is split between the intra-op threads, and with it the order of
a sum, can change from one call to the next while the cores are busy; a value within a
few ulps of k + 0.5 then rounds to the next level. This script codes one Kodak image with
a shipped model and decodes its file `--repeats` times in child processes of several
settings (two intra-op threads or one; oneDNN on or off), with `--busy` processes
spinning on the cores beside them, and counts the decodes that differ from the first.

  python benchmarks/decoding_repeat.py --kodak-dir ../shared/data/kodak
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator

import numpy as np

import common  # pylint: disable=wrong-import-order

from compression_eval.errors import UserError, run_cli
from compression_eval.images import read_rgb8

# The decoders' settings compared, as the environment each child process runs in.
SETTINGS = {
    "2 threads, oneDNN (default)": {"TF_NUM_INTRAOP_THREADS": "2"},
    "1 thread, oneDNN": {"TF_NUM_INTRAOP_THREADS": "1"},
    "2 threads, no oneDNN": {"TF_NUM_INTRAOP_THREADS": "2", "TF_ENABLE_ONEDNN_OPTS": "0"},
}


def _digest(image: np.ndarray) -> str:
  return hashlib.blake2b(image.tobytes(), digest_size=8).hexdigest()


def _child(spec: str, image_path: str, repeats: int, out: Path) -> None:
  """Codes the image, decodes the file `repeats` times; writes what differed to `out` and
  the first decode beside it (.npy)."""
  from compression_zoo.registry import make_codec  # pylint: disable=import-outside-toplevel
  codec = make_codec(spec)
  data = codec.files(read_rgb8(image_path))[-1][1]
  first = codec.decode(data)
  differing, values, levels = 0, 0, 0
  for _ in range(repeats - 1):
    diff = np.abs(codec.decode(data).astype(np.int16) - first.astype(np.int16))
    differing += bool(diff.any())
    values = max(values, int(np.count_nonzero(diff)))
    levels = max(levels, int(diff.max()))
  np.save(out.with_suffix(".npy"), first)
  out.write_text(json.dumps({"file": hashlib.blake2b(data, digest_size=8).hexdigest(),
                             "first": _digest(first), "decodes": repeats,
                             "differing": differing, "most_values": values,
                             "max_levels": levels, "values": first.size}))


def _spin() -> None:
  """Multi-threaded float work, as another TensorFlow or numpy job beside the decoder."""
  matrix = np.random.default_rng(0).random((512, 512), dtype=np.float32)
  while True:
    matrix = np.tanh(matrix @ matrix)


@contextlib.contextmanager
def _busy(processes: int) -> Iterator[None]:
  """`processes` processes keeping cores busy while the block runs."""
  spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(processes)]
  for spinner in spinners:
    spinner.start()
  try:
    yield
  finally:
    for spinner in spinners:
      spinner.terminate()
      spinner.join()


def measure(model: str, image_path: Path, repeats: int, busy: int) -> Dict[str, Any]:
  kind, path = common.export_model(model)
  spec = f"{kind}:{path}"
  rows, default = {}, None
  with tempfile.TemporaryDirectory() as scratch, _busy(busy):
    for name, environment in SETTINGS.items():
      out = Path(scratch) / "child.json"
      subprocess.run([sys.executable, __file__, "--child", str(out), "--spec", spec,
                      "--repeats", str(repeats), str(image_path)], check=True,
                     env={**os.environ, "TF_NUM_INTEROP_THREADS": "1", **environment})
      rows[name] = json.loads(out.read_text())
      first = np.load(out.with_suffix(".npy")).astype(np.int16)
      default = first if default is None else default
      rows[name]["unlike_default"] = int(np.count_nonzero(first - default))
      rows[name]["levels_from_default"] = int(np.abs(first - default).max())
  return {"model": model, "image": image_path.stem, "busy": busy, "cores": os.cpu_count(),
          "settings": rows}


def render(figures: Dict[str, Any]) -> str:
  rows = [[name, f"{row['differing']} of {row['decodes'] - 1}",
           f"{row['most_values']} of {row['values']:,}", row["max_levels"],
           f"{row['unlike_default']} ({row['levels_from_default']})"]
          for name, row in figures["settings"].items()]
  return common.table(
      f"{figures['model']}, {figures['image']}: one file decoded again and again in one process, "
      f"{figures['busy']} busy processes beside it ({figures['cores']} cores)",
      ["decoder", "decodes unlike the first", "most values unlike it", "max levels",
       "first decode: values unlike the default's (max levels)"], rows)


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--kodak-dir", default=str(common.REPO.parent / "shared/data/kodak"))
  parser.add_argument("--model", default="r2i-prediction-seed1", help="a shipped R2I model")
  parser.add_argument("--image", default="kodim01", help="the Kodak image coded")
  parser.add_argument("--repeats", type=int, default=40, help="decodes of the file")
  parser.add_argument("--busy", type=int, default=os.cpu_count() or 1,
                      help="processes spinning on the cores beside the decoder")
  parser.add_argument("--out", default=str(common.REPO / "docs/benchmarks/decoding_repeat.json"))
  parser.add_argument("--child", help=argparse.SUPPRESS)
  parser.add_argument("--spec", help=argparse.SUPPRESS)
  parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.repeats < 2:
    raise UserError("--repeats must be at least 2")
  if args.child:
    _child(args.spec, args.paths[0], args.repeats, Path(args.child))
    return 0
  image_path = Path(args.kodak_dir) / f"{args.image}.png"
  if not image_path.is_file():
    raise UserError(f"{image_path} not found")
  return common.publish(measure(args.model, image_path, args.repeats, args.busy), render,
                        args.out)


if __name__ == "__main__":
  run_cli(main)
