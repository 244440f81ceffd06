"""DeepSIC's context-adaptive binary coder (`deepsic_tf.context_coding`) and its files."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from compression_eval.errors import UserError
from deepsic_tf import bitstream, context_coding
from deepsic_tf.saved_codec import SavedCodec
from tests.conftest import smooth_image

LEVELS = (-32, 31)


def _codes(rows: int, cols: int, channels: int = 16, seed: int = 0) -> np.ndarray:
  """Codes with a code's statistics: mostly zero, a few channels busy, smooth in space,
  and the extremes of the range (the plain bits beyond the unary decisions)."""
  rng = np.random.default_rng(seed)
  scale = np.linspace(0.2, 6.0, channels) * (1 + np.sin(np.arange(cols) / 3.0))[None, :, None]
  code = np.round(rng.laplace(size=(rows, cols, channels)) * scale)
  code = np.clip(code, *LEVELS).astype(np.int32)
  code.reshape(-1)[:2] = LEVELS
  return code


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (7, 2), (1, 40), (40, 1), (6, 6)])
def test_round_trip_and_the_file_is_its_ideal_rate(shape):
  tables = context_coding.learn_tables([_codes(8, 8, seed=1)], LEVELS, model_id=3)
  code = _codes(*shape)
  payload = context_coding.encode(code, LEVELS, tables)
  np.testing.assert_array_equal(context_coding.decode(payload, code.shape, LEVELS, tables), code)
  assert 8 * len(payload) <= context_coding.ideal_bits(code, LEVELS, tables) * 1.01 + 32


def test_learned_tables_code_like_codes_in_fewer_bits_than_empty_ones():
  tables = context_coding.learn_tables([_codes(12, 12, seed=s) for s in range(3)], LEVELS, 3)
  code = _codes(6, 10, seed=9)
  empty = context_coding.ContextTables.empty(code.shape[-1], 3)
  assert (context_coding.ideal_bits(code, LEVELS, tables) <
          0.97 * context_coding.ideal_bits(code, LEVELS, empty))
  assert (tables.zero_seen.max() <= context_coding.PRIOR_WEIGHT and
          (tables.zero_ones <= tables.zero_seen).all())


def test_contexts_adapt_to_the_image():
  """A code whose channel 0 is always busy and the others silent: the rows below the first
  cost far less than the first, from the same (empty) start."""
  code = np.zeros((10, 10, 8), np.int32)
  code[..., 0] = 5
  empty = context_coding.ContextTables.empty(8)
  first = context_coding.ideal_bits(code[:1], LEVELS, empty)
  assert context_coding.ideal_bits(code, LEVELS, empty) < 4 * first


def test_a_code_from_other_tables_names_the_likely_cause():
  """The file names its model, not its context tables: a code written before the tables
  were learned again does not decode with the new ones, and the error says why it may not."""
  writer = context_coding.learn_tables([_codes(8, 8, seed=1)], LEVELS, model_id=3)
  code = _codes(4, 6, seed=2)
  payload = context_coding.encode(code, LEVELS, writer)
  with pytest.raises(UserError, match="written with other context tables") as error:
    context_coding.decode(payload, code.shape, LEVELS, context_coding.ContextTables.empty(16, 3))
  assert "\n" not in str(error.value)


def test_a_damaged_payload_decodes_to_some_code_in_range_or_is_refused():
  tables = context_coding.learn_tables([_codes(8, 8)], LEVELS, 3)
  code = _codes(4, 6, seed=2)
  payload = bytearray(context_coding.encode(code, LEVELS, tables))
  outcomes = set()
  rng = np.random.default_rng(0)
  for _ in range(30):
    damaged = bytearray(payload)
    damaged[rng.integers(len(damaged))] ^= 1 << int(rng.integers(8))
    for data in (bytes(damaged), bytes(payload[:rng.integers(len(payload))])):
      try:
        decoded = context_coding.decode(data, code.shape, LEVELS, tables)
      except UserError as error:
        assert "\n" not in str(error)
        outcomes.add("refused")
      else:
        assert decoded.min() >= LEVELS[0] and decoded.max() <= LEVELS[1]
        outcomes.add("decoded")
  assert "refused" in outcomes


def test_damaged_or_foreign_tables_are_one_line_errors(tmp_path, context_exported):
  (tmp_path / context_coding.FILE_NAME).write_bytes(b"not a zip")
  with pytest.raises(UserError, match="not a DeepSIC context table"):
    context_coding.ContextTables.load(tmp_path / context_coding.FILE_NAME)
  codec = SavedCodec(context_exported)
  with pytest.raises(UserError, match="another DeepSIC model"):
    codec.use_context_tables(context_coding.ContextTables.empty(codec.config.bottleneck_channels,
                                                                codec.model_id + 1))


def test_context_coded_files_have_the_same_pixels_and_label_in_fewer_bits(context_exported):
  codec = SavedCodec(context_exported)
  image = smooth_image(72, 120, seed=7)
  model_coded, context_coded = codec.compress(image), codec.compress(image, context_coded=True)
  assert context_coded[4] == bitstream.CONTEXT_VERSION and model_coded[4] == 1
  ours, theirs = codec.decompress(context_coded), codec.decompress(model_coded)
  np.testing.assert_array_equal(ours.image, theirs.image)
  assert ours.label == theirs.label == codec.classify(context_coded).label
  assert len(context_coded) < len(model_coded)


def test_a_codec_without_tables_refuses_context_coding_in_one_line(exported):
  codec = SavedCodec(exported["post"])
  with pytest.raises(UserError, match="no context tables"):
    codec.compress(smooth_image(32, 32), context_coded=True)


def test_one_thread_fresh_process_decodes_the_same_pixels(context_exported, tmp_path):
  codec = SavedCodec(context_exported)
  data = codec.compress(smooth_image(96, 160, seed=3), context_coded=True)
  (tmp_path / "image.dsic").write_bytes(data)
  script = textwrap.dedent(f"""
      import numpy as np
      import tensorflow as tf
      tf.config.threading.set_intra_op_parallelism_threads(1)
      tf.config.threading.set_inter_op_parallelism_threads(1)
      from deepsic_tf.saved_codec import SavedCodec
      data = open({str(tmp_path / "image.dsic")!r}, "rb").read()
      np.save({str(tmp_path / "decoded.npy")!r},
              SavedCodec({str(context_exported)!r}).decompress(data).image)
  """)
  result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
  assert result.returncode == 0, result.stderr[-3000:]
  np.testing.assert_array_equal(np.load(tmp_path / "decoded.npy"), codec.decompress(data).image)
