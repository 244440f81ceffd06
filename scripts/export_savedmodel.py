"""Exports a trained DeepSIC model as two SavedModels.

  python scripts/export_savedmodel.py --model runs/deepsic/model --output exports/deepsic

<output>/codec    the full codec: signatures compress (image -> file bytes), decompress
                  (file bytes -> image, class), classify and info. Needs
                  `import tensorflow_compression` before loading (range-coding ops).
<output>/serving  for TF Serving: standard ops only. serving_default (images -> integer
                  codes, class scores), decode (codes -> images), classify_codes. Range
                  coding of the codes stays in the client library.
"""
from __future__ import annotations

import os
import sys
from typing import List

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TF's C++ start-up noise off the output

from compression_eval.errors import ArgumentParser, run_cli  # pylint: disable=wrong-import-position
from compression_eval.fileio import ensure_dir  # pylint: disable=wrong-import-position


def main(argv: List[str] | None = None) -> int:
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--model", required=True,
                      help="trained model folder (config.json + weights), e.g. RUN/model")
  parser.add_argument("--output", required=True, help="folder for codec/ and serving/")
  args = parser.parse_args(sys.argv[1:] if argv is None else argv)
  output = ensure_dir(args.output)

  # TensorFlow loads here, after the cheap checks above.
  from deepsic_tf import codec, serving  # pylint: disable=import-outside-toplevel
  from deepsic_tf.train import load_model  # pylint: disable=import-outside-toplevel
  model = load_model(args.model)
  codec.export(model, str(output / "codec"))
  serving.export(model, str(output / "serving"))
  print(f"{output / 'codec'}: full codec (compress / decompress / classify on files); "
        "load after `import tensorflow_compression`")
  print(f"{output / 'serving'}: TF Serving model, standard ops only (serving_default: images -> "
        "codes + class scores; decode; classify_codes); entropy coding stays in the client")
  return 0


if __name__ == "__main__":
  run_cli(main)
