"""Both side-table learners end to end on a small image folder: they write tables the
codec accepts and print the summary `compression_eval.side_tables.write` makes."""
import json

import numpy as np
from PIL import Image

from compression_eval.model_lookup import codec_folder
from deepsic_tf import context_coding, context_tables_learn
from deepsic_tf.family import FAMILY as DEEPSIC
from deepsic_tf.saved_codec import SavedCodec as DeepSICCodec
from r2i_tf import bit_model_train
from r2i_tf.bit_model import BitModel
from r2i_tf.family import FAMILY as R2I
from r2i_tf.saved_codec import SavedCodec as R2ICodec


def _folder(tmp_path):
  """An ImageNet-layout folder with three 64x64 noise-and-gradient images in train/."""
  rng = np.random.default_rng(0)
  ramp = np.linspace(0, 200, 64)[None, :, None]
  for index in range(3):
    folder = tmp_path / "data" / "train" / f"c{index % 2}"
    folder.mkdir(parents=True, exist_ok=True)
    pixels = ramp + rng.integers(0, 40, (64, 64, 3))
    Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{index}.png")
  return str(tmp_path / "data")


def _summary(printed: str) -> dict:
  return json.loads(printed[printed.index("{"):printed.rindex("}") + 1])


def test_context_tables_learner_writes_tables_the_codec_uses(tmp_path, capsys):
  output = tmp_path / "context_tables.npz"
  assert context_tables_learn.main(["--model", "deepsic-post-q2", "--dataset",
                                    _folder(tmp_path), "--images", "2", "--held-out", "1",
                                    "--seed", "3", "--output", str(output)]) == 0
  summary = _summary(capsys.readouterr().out)
  assert (summary["images"], summary["held_out"], summary["seed"]) == (2, 1, 3)
  assert summary["bytes"] == output.stat().st_size
  assert summary["held_out_rates"]["context_bpp"] > 0
  codec = DeepSICCodec(codec_folder(DEEPSIC, "deepsic-post-q2"))
  assert context_coding.ContextTables.load(output).model_id == codec.model_id


def test_bit_model_learner_writes_a_model_for_the_coder(tmp_path, capsys):
  output = tmp_path / "bit_model.npz"
  assert bit_model_train.main(["--model", "r2i-decoding", "--dataset", _folder(tmp_path),
                               "--images", "2", "--held-out", "1", "--steps", "20",
                               "--output", str(output)]) == 0
  summary = _summary(capsys.readouterr().out)
  assert (summary["images"], summary["held_out"], summary["steps"]) == (2, 1, 20)
  assert summary["bytes"] == output.stat().st_size
  assert set(summary["bits_per_bit_held_out"]) == {"adaptive", "float", "integer"}
  codec = R2ICodec(codec_folder(R2I, "r2i-decoding"))
  assert codec.model_id in BitModel.load(output).model_ids
