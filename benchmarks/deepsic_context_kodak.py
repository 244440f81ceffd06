"""DeepSIC on Kodak with its own entropy model and context-coded: rates, BD savings, times.

  python benchmarks/deepsic_context_kodak.py --kodak-dir ../shared/data/kodak [--jobs 2]

Every shipped DeepSIC model codes every Kodak image twice, real files both: with the
model's own entropy model (`deepsic:`) and with the context-adaptive coder
(`deepsic-context:`, `deepsic_tf.context_coding`); the pixels are the same, so only the
rate moves. Prints each model's bpp both ways and, per architecture, the BD rate savings
against JPEG over Figures 6-7's range (JPEG's curve from reports/kodak/jpeg.json, the
report's measurement), and the mean coding times.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compression_eval.errors import ArgumentParser, run_cli  # pylint: disable=wrong-import-position

KINDS = {"deepsic": "own entropy model", "deepsic-context": "context-coded"}


def main(argv: List[str] | None = None) -> int:
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--kodak-dir", default="../shared/data/kodak")
  parser.add_argument("--jobs", type=int, default=2)
  parser.add_argument("--jpeg", default="reports/kodak/jpeg.json",
                      help="JPEG's Kodak curve (CompressAI JSON)")
  parser.add_argument("--out", help="folder for the curves (CompressAI JSON)")
  args = parser.parse_args(argv)
  from compression_eval import rd  # pylint: disable=import-outside-toplevel
  from compression_eval.datasets.kodak_loader import load_kodak  # pylint: disable=import-outside-toplevel
  from compression_zoo import zoo  # pylint: disable=import-outside-toplevel
  from compression_zoo.evaluate import evaluate_codec, worker_pool  # pylint: disable=import-outside-toplevel
  from compression_zoo.paper_tables import DEEPSIC_METRICS, DEEPSIC_RANGE, savings  # pylint: disable=import-outside-toplevel
  images = load_kodak(args.kodak_dir)
  jpeg = rd.read_json(args.jpeg)
  models = [model.name for model in zoo.MODELS
            if model.trainer == "deepsic" and model.is_codec]
  points = {(kind, arch): [] for kind in KINDS for arch in ("pre", "post")}
  with worker_pool(args.jobs) as pool:
    for name in models:
      line = [name]
      for kind in KINDS:
        curve = evaluate_codec(f"{kind}:{name}", images, pool=pool)
        curve.name = name
        arch = "pre" if "-pre-" in name else "post"
        points[(kind, arch)].append(curve)
        results = curve.results
        line.append(f"{kind}: {results['bpp'][0]:.4f} bpp, {results['psnr-rgb'][0]:.2f} dB, "
                    f"encode {results['encoding_time'][0]:.3f} s, "
                    f"decode {results['decoding_time'][0]:.3f} s")
      print(" | ".join(line), flush=True)
  print(f"\nBD rate savings against JPEG, {DEEPSIC_RANGE[0]:g}-{DEEPSIC_RANGE[1]:g} bpp "
        f"({len(images)} Kodak images; positive: fewer bits than JPEG)")
  for (kind, arch), arch_points in points.items():
    arch_points.sort(key=lambda point: point.results["bpp"][0])
    curve = rd.join_points(f"deepsic-{arch}{'-context' if kind != 'deepsic' else ''}",
                           f"DeepSIC {arch}-semantic, {KINDS[kind]}", arch_points)
    if args.out:
      rd.write_json(curve, Path(args.out) / f"{curve.name}.json")
    figures = ", ".join(f"{metric} {savings(jpeg, curve, metric, DEEPSIC_RANGE):+.1f} %"
                        for metric in DEEPSIC_METRICS)
    print(f"  {curve.name:<22} {figures}")
  return 0


if __name__ == "__main__":
  run_cli(main)
