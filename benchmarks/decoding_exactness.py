"""How exactly a DeepSIC file decodes: in tiles against whole, and on 1 thread against many.

The codes in a file are integers, but g runs in float32, and TensorFlow's convolution
kernels sum in an order that depends on the input's shape (the tile) and on how the work
is split between threads. A pixel whose float value lies within a few ulps of a rounding
boundary (k + 0.5) can then round to a neighbouring level. This script measures how often:
it codes Kodak images once with a shipped model, decodes each file whole, in tiles of
several sides, and whole again in a child process limited to one intra-op thread, and
counts the pixels that differ from the whole decode, and by how many levels.

  python benchmarks/decoding_exactness.py --kodak-dir ../shared/data/kodak
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List

import numpy as np

import common  # pylint: disable=wrong-import-order

from compression_eval.errors import UserError, run_cli
from compression_eval.images import read_rgb8
from deepsic_tf.codec import CodecModule
from deepsic_tf.tiling import Tiles
from deepsic_tf.train import load_model

# Synthesis tile sides (multiples of the total stride, 16), from a Kodak image in 15 tiles
# down to the smallest the margins allow; f's tile stays whole.
SYNTHESIS_TILES = (256, 128, 64)


def _decoded(model_dir: str, files: List[Path], synthesis: int) -> List[np.ndarray]:
  codec = CodecModule(load_model(model_dir), Tiles(synthesis=synthesis))
  return [codec.decompress(path.read_bytes())["image"].numpy() for path in files]


def _compare(reference: List[np.ndarray], other: List[np.ndarray]) -> Dict[str, float]:
  diffs = [np.abs(a.astype(np.int16) - b.astype(np.int16)) for a, b in zip(reference, other)]
  values = sum(diff.size for diff in diffs)
  differing = sum(int(np.count_nonzero(diff)) for diff in diffs)
  return {"max_levels": int(max(diff.max() for diff in diffs)), "values_differing": differing,
          "values": values, "fraction": differing / values}


def _child(model_dir: str, files: List[Path], out: Path) -> None:
  """The whole decodes of `files`, saved to `out` (run with TF_NUM_INTRAOP_THREADS=1)."""
  images = _decoded(model_dir, files, Tiles().synthesis)
  np.savez(out, *images)


def measure(model_dir: str, kodak_dir: str, count: int) -> Dict[str, Any]:
  encoder = CodecModule(load_model(model_dir))
  with tempfile.TemporaryDirectory() as scratch:
    files = []
    for path in common.kodak_paths(kodak_dir, count):
      file = Path(scratch) / (path.stem + ".dsic")
      file.write_bytes(encoder.compress(read_rgb8(path))["file"].numpy())
      files.append(file)
    whole = _decoded(model_dir, files, Tiles().synthesis)
    rows = {f"tiles {side}": _compare(whole, _decoded(model_dir, files, side))
            for side in SYNTHESIS_TILES}
    saved = Path(scratch) / "one_thread.npz"
    subprocess.run([sys.executable, __file__, "--child", str(saved), "--model", model_dir,
                    *map(str, files)], check=True,
                   env={**os.environ, "TF_NUM_INTRAOP_THREADS": "1",
                        "TF_NUM_INTEROP_THREADS": "1"})
    with np.load(saved) as arrays:
      one_thread = [arrays[f"arr_{i}"] for i in range(len(files))]
    rows["1 thread, whole"] = _compare(whole, one_thread)
  return {"model": Path(model_dir).name, "images": count, "threads": os.cpu_count(), "against": rows}


def render(figures: Dict[str, Any]) -> str:
  rows = [[name, row["max_levels"], f"{row['values_differing']:,} of {row['values']:,}",
           f"{row['fraction']:.2e}"] for name, row in figures["against"].items()]
  return common.table(
      f"Decoding {figures['images']} Kodak files of {figures['model']} against decoding "
      f"them whole ({figures['threads']} cores)",
      ["decoded", "max abs difference (levels)", "values differing", "fraction"], rows)


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--kodak-dir", default=str(common.REPO.parent / "shared/data/kodak"))
  parser.add_argument("--model", default=str(common.REPO / "saved_models" /
                                             common.MODELS["deepsic"]))
  parser.add_argument("--count", type=int, default=6, help="Kodak images")
  parser.add_argument("--out", default=str(common.REPO / "docs/decoding_exactness.json"))
  parser.add_argument("--child", help=argparse.SUPPRESS)
  parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.child:
    _child(args.model, [Path(file) for file in args.files], Path(args.child))
    return 0
  if not Path(args.model).is_dir():
    raise UserError(f"{args.model} is not a model folder")
  return common.publish(measure(args.model, args.kodak_dir, args.count), render, args.out)


if __name__ == "__main__":
  run_cli(main)
