"""Exports a trained DeepSIC, R2I or IR2I model as SavedModels.

  python scripts/export_savedmodel.py --model runs/deepsic/model --output exports/deepsic
  python scripts/export_savedmodel.py --model runs/r2i-decoding/model --output exports/r2i

DeepSIC:

<output>/codec    the full codec: signatures compress (image -> file bytes), decompress
                  (file bytes -> image, class), classify and info. Needs
                  `import tensorflow_compression` before loading (range-coding ops).
<output>/serving  for TF Serving: standard ops only. serving_default (images -> integer
                  codes, class scores), decode (codes -> images), classify_codes. Range
                  coding of the codes stays in the client library.

R2I:
<output>/codec    encode (uint8 32x32 blocks -> bits of every stage), decode (bits of the
                  first k stages -> k reconstructions) and info. Standard ops only, so
                  the same model serves TF Serving; blocks and files are client-side.
IR2I:
<output>/codec    the same plus inpaint (masked 64x64 contexts -> predicted blocks); encode
                  and decode also take each block's inpainting. The scan that builds the
                  contexts from the first code is client-side (r2i_tf.scan).
"""
from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import List

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TF's C++ start-up noise off the output

from compression_eval.errors import ArgumentParser, UserError, run_cli  # pylint: disable=wrong-import-position
from compression_eval.fileio import ensure_dir  # pylint: disable=wrong-import-position
from compression_zoo import families  # pylint: disable=wrong-import-position


def main(argv: List[str] | None = None) -> int:
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--model", required=True,
                      help="trained model folder (config.json + weights), e.g. RUN/model or "
                      "saved_models/NAME")
  parser.add_argument("--output", required=True, help="folder for codec/ (and serving/)")
  args = parser.parse_args(sys.argv[1:] if argv is None else argv)
  output = ensure_dir(args.output)
  folder = Path(args.model)
  family = families.of_folder(folder)
  refusal = family.not_a_codec((folder / "config.json").read_text())
  if refusal:
    raise UserError(f"{args.model} holds {refusal}")
  # TensorFlow loads here, after the cheap checks above.
  for line in family.export(family.load_model(folder), output):
    print(line)
  return 0


entry_point = functools.partial(run_cli, main)  # the installed console script


if __name__ == "__main__":
  entry_point()
