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

import json
import os
import sys
from pathlib import Path
from typing import List

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TF's C++ start-up noise off the output

from compression_eval.errors import ArgumentParser, UserError, run_cli  # pylint: disable=wrong-import-position
from compression_eval.fileio import ensure_dir  # pylint: disable=wrong-import-position


def main(argv: List[str] | None = None) -> int:
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--model", required=True,
                      help="trained model folder (config.json + weights), e.g. RUN/model")
  parser.add_argument("--output", required=True, help="folder for codec/ and serving/")
  args = parser.parse_args(sys.argv[1:] if argv is None else argv)
  output = ensure_dir(args.output)
  if _is_r2i(Path(args.model)):
    from r2i_tf import codec as r2i_codec  # pylint: disable=import-outside-toplevel
    from r2i_tf.inpainting import InpaintingModel  # pylint: disable=import-outside-toplevel
    from r2i_tf.train import load_model as load_r2i  # pylint: disable=import-outside-toplevel
    model = load_r2i(args.model)
    if isinstance(model, InpaintingModel):
      raise UserError(f"{args.model} holds an inpainting network trained alone, not a codec; "
                      "train IR2I with it (--variant ir2i-separate --inpainter RUN)")
    r2i_codec.export(model, str(output / "codec"))
    print(f"{output / 'codec'}: {type(model).__name__} codec (standard ops only, servable by "
          "TF Serving); use it with python -m r2i_tf")
    return 0

  # TensorFlow loads here, after the cheap checks above.
  from deepsic_tf import codec, serving  # pylint: disable=import-outside-toplevel
  from deepsic_tf.train import load_model  # pylint: disable=import-outside-toplevel
  model = load_model(args.model)
  if model.config.architecture == "reference":
    raise UserError(f"{args.model} holds the uncompressed reference classifier, which has no "
                    "codec to export")
  codec.export(model, str(output / "codec"))
  serving.export(model, str(output / "serving"))
  print(f"{output / 'codec'}: full codec (compress / decompress / classify on files); "
        "load after `import tensorflow_compression`")
  print(f"{output / 'serving'}: TF Serving model, standard ops only (serving_default: images -> "
        "codes + class scores; decode; classify_codes); entropy coding stays in the client")
  return 0


def _is_r2i(model: Path) -> bool:
  """Whether a model folder holds an R2I, IR2I or inpainting model (not DeepSIC)."""
  try:
    fields = json.loads((model / "config.json").read_text())
    return bool({"variant", "coder", "inpainter"} & set(fields))
  except FileNotFoundError:
    raise UserError(f"no trained model in {model} (expected config.json and weights)") from None
  except (OSError, ValueError) as error:
    raise UserError(f"cannot read {model}/config.json ({error})") from None


if __name__ == "__main__":
  run_cli(main)
