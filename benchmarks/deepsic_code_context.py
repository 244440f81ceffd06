"""How much a context model could save on a DeepSIC code: empirical entropies on Kodak.

  python benchmarks/deepsic_code_context.py --model saved_models/deepsic-post-q2 \
      --kodak-dir ../shared/data/kodak [--images 4]

For each image, the rounded code's empirical conditional entropy (bits per pixel) given
(1) its channel (the best per-image factorized model), (2) its channel and how many of
its left and upper neighbours in that channel are nonzero (CABAC's neighbour context,
the paper's section III-B), (3) that and how many channels are nonzero at the position
above (activity across channels). Each is fitted to the image it measures, with no cost
for describing the fit, so it bounds what a context model of that kind can save from
below; the model's own rate (its entropy model's estimate) is printed beside.
"""
from __future__ import annotations

import collections
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # pylint: disable=wrong-import-position

from compression_eval.errors import ArgumentParser, run_cli  # pylint: disable=wrong-import-position


def conditional_entropy(contexts: Iterable[Tuple], values: np.ndarray) -> float:
  """Total bits of `values` under their empirical distribution within each context."""
  joint = collections.Counter(zip(contexts, values.tolist()))
  marginal = collections.Counter()
  for (context, _), count in joint.items():
    marginal[context] += count
  return -sum(count * np.log2(count / marginal[context])
              for (context, _), count in joint.items())


def entropies(code: np.ndarray) -> Dict[str, float]:
  """Bits of a rounded code (h, w, C) under the three context choices."""
  nonzero = (code != 0).astype(np.int64)
  left = np.pad(nonzero, ((0, 0), (1, 0), (0, 0)))[:, :-1]
  above = np.pad(nonzero, ((1, 0), (0, 0), (0, 0)))[:-1]
  activity = np.minimum(np.pad(nonzero.sum(-1, keepdims=True),
                               ((1, 0), (0, 0), (0, 0)))[:-1] // 8, 7)
  channel = np.broadcast_to(np.arange(code.shape[-1]), code.shape).ravel()
  neighbours = (left + above).ravel()
  values = code.ravel()
  return {"channel": conditional_entropy(channel.tolist(), values),
          "channel+neighbours": conditional_entropy(zip(channel, neighbours), values),
          "channel+neighbours+activity": conditional_entropy(
              zip(channel, neighbours, np.broadcast_to(activity, code.shape).ravel()), values)}


def main(argv: List[str] | None = None) -> int:
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--model", default="saved_models/deepsic-post-q2")
  parser.add_argument("--kodak-dir", default="../shared/data/kodak")
  parser.add_argument("--images", type=int, default=4)
  args = parser.parse_args(argv)
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from compression_eval.images import read_rgb8  # pylint: disable=import-outside-toplevel
  from compression_eval.padding import pad_to_multiple  # pylint: disable=import-outside-toplevel
  from deepsic_tf.train import load_model  # pylint: disable=import-outside-toplevel
  model = load_model(args.model)
  totals: Dict[str, float] = collections.Counter()
  pixels = 0
  for path in sorted(Path(args.kodak_dir).glob("kodim*.png"))[:args.images]:
    image = read_rgb8(path)
    padded = pad_to_multiple(tf.constant(image), model.config.total_stride, row_axis=0)
    batch = tf.cast(padded, tf.float32)[tf.newaxis] / 255.0
    features = model.analysis(batch, training=False)
    code = tf.round(model.quantizer.to_lattice(features)).numpy()[0].astype(np.int64)
    bits, _ = model.rate_and_logits(batch)
    totals["model's estimate"] += float(bits[0])
    for name, value in entropies(code).items():
      totals[name] += value
    pixels += int(batch.shape[1] * batch.shape[2])
  print(f"{args.model} on {args.images} Kodak images (bits per pixel):")
  for name, value in totals.items():
    print(f"  {name:<30} {value / pixels:.4f}")
  return 0


if __name__ == "__main__":
  run_cli(main)
