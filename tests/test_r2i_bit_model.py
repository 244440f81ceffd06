"""The learned bit model: integer-exact indexes, exact and progressive round trips,
decoding in a fresh one-thread process, and one-line refusals."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from compression_eval.errors import UserError
from r2i_tf import bit_contexts, bitstream, learned_entropy
from r2i_tf import bit_model as bit_model_module
from r2i_tf.bit_model import FILE_NAME, BitModel
from r2i_tf.saved_codec import SavedCodec
from tests.conftest import REPO_ROOT, smooth_image
from tests.fuzz_cases import _r2i_reseal
from tests.r2i_fixtures import tiny_bit_model
from tests.test_deepsic_cli import _one_line_error, _run


def test_integer_network_gives_the_int64_reference_indexes(r2i_exported):
  model = tiny_bit_model(r2i_exported)
  rng = np.random.default_rng(1)
  grid = rng.integers(0, 2, (3, 5, 7, model.bits)).astype(np.uint8)
  for stage, group in ((0, 0), (1, 1), (2, 0), (2, 1)):
    contexts, adaptive = bit_contexts.stage_inputs(grid[:stage + 1], model.stages,
                                                   model.groups)
    context = contexts[group]
    indexes = model.indexes(context, adaptive)
    np.testing.assert_array_equal(indexes, model.reference_indexes(context, adaptive))
    assert 0 <= indexes.min() and indexes.max() < 64 and len(np.unique(indexes)) > 10


def test_a_few_large_weights_leave_the_small_ones_their_precision():
  """A trained W1 is a few large weights among thousands of small ones: quantised with
  one scale per matrix, the small ones must still give the float network's bins."""
  stages, groups, bits = 8, 4, 128
  inputs = (bit_contexts.earlier_size(bits, stages) + bit_contexts.above_size(bits)
            + bit_contexts.group_size(bits, groups))
  rng = np.random.default_rng(3)
  w1 = rng.normal(0, 0.01, (inputs, 64))
  w1[0, :4] = 2.0  # the outliers that set W1's scale, 200x the typical weight
  weights = [w1, rng.normal(0, 0.05, 64), rng.normal(0, 1.0, (64, bits)),
             rng.normal(0, 0.2, bits), rng.normal(1, 0.2, bits)]
  model = BitModel.quantise(weights, stages, groups, [1])
  context = rng.integers(-1, 2, (2000, inputs)).astype(np.int8)
  adaptive = rng.integers(-32, 33, (2000, bits)).astype(np.int8)
  hidden = np.maximum(context @ weights[0] + weights[1], 0)
  logits = hidden @ weights[2] + weights[3] + weights[4] * adaptive / 32.0
  edges = np.arange(1, 64) / 64
  expected = np.searchsorted(np.log(edges / (1 - edges)), logits, side="right")
  indexes = model.indexes(context, adaptive)
  np.testing.assert_array_equal(indexes, model.reference_indexes(context, adaptive))
  # Within one bin everywhere (with int8 tables most small weights round to 0 here).
  assert np.mean(indexes == expected) > 0.9 and np.abs(indexes - expected).max() <= 1


def test_decoder_rebuilds_the_encoders_inputs_row_by_row():
  rng = np.random.default_rng(2)
  current = rng.integers(0, 2, (4, 6, 128)).astype(np.uint8)
  whole = bit_contexts.above_inputs(current)
  adaptive = bit_contexts.adaptive_inputs(current)
  earlier = rng.integers(0, 2, (2, 4, 6, 128)).astype(np.uint8)
  earlier_whole = bit_contexts.earlier_inputs(earlier, 3).reshape(4, 6, -1)
  for row in range(4):
    np.testing.assert_array_equal(bit_contexts.earlier_rows(earlier, row, row + 1, 3),
                                  earlier_whole[row])
    hidden = current.copy()
    hidden[row:] = 1 - hidden[row:]  # what the decoder has not decoded yet must not matter
    np.testing.assert_array_equal(bit_contexts.above_row(hidden, row), whole[row])
    ones = hidden[:row].sum(axis=(0, 1), dtype=np.int64)  # the decoder's running counts
    np.testing.assert_array_equal(bit_contexts.adaptive_bins(ones, row * 6), adaptive[row])
  assert not adaptive[0].any() and not whole[0].any()
  np.testing.assert_array_equal(bit_contexts.earlier_rows(earlier, 1, 3, 3),
                                earlier_whole[1:3].reshape(12, -1))


def test_a_pass_sees_only_the_passes_before_it_in_its_row():
  rng = np.random.default_rng(3)
  row = rng.integers(0, 2, (6, 128)).astype(np.uint8)
  passes = bit_contexts.channel_groups(128, 4)
  assert [np.count_nonzero(passes == group) for group in range(4)] == [32] * 4
  assert list(passes[:32:8]) == [0, 1, 2, 3] and (passes[32:64] == passes[:32]).all()
  for group in range(4):
    hidden = row.copy()
    hidden[:, passes >= group] ^= 1  # not decoded yet: must not matter
    inputs = bit_contexts.group_inputs(hidden, group, 4)
    np.testing.assert_array_equal(inputs, bit_contexts.group_inputs(row, group, 4))
    own, left, right, one_hot = np.split(inputs, [128, 256, 384], axis=-1)
    assert (one_hot.argmax(-1) == group).all() and (one_hot.sum(-1) == 1).all()
    known = passes < group
    np.testing.assert_array_equal(own[:, known], row[:, known].astype(np.int8) * 2 - 1)
    np.testing.assert_array_equal(left[1:], own[:-1])
    np.testing.assert_array_equal(right[:-1], own[1:])
    assert not left[0].any() and not right[-1].any() and not own[:, ~known].any()


def test_the_coders_shortcuts_give_the_whole_networks_sums(r2i_exported):
  """The coder skips the earlier-stage inputs that are 0 at a stage and adds each pass's
  new inputs alone; both must give the sums of the whole products."""
  model = tiny_bit_model(r2i_exported, groups=4)
  rng = np.random.default_rng(4)
  grid = rng.integers(0, 2, (model.stages, 3, 5, model.bits)).astype(np.uint8)
  for stage in range(model.stages):
    inputs = bit_contexts.earlier_inputs(grid[:stage], model.stages)
    np.testing.assert_array_equal(model.earlier_part(inputs, stage), model.earlier_part(inputs))
  row = grid[0, 1]
  first = np.zeros((5, model.b1.size), np.int64)
  for group in range(model.groups):
    first = first + model.group_change(row, group)
    np.testing.assert_array_equal(
        first, model.group_part(bit_contexts.group_inputs(row, group, model.groups)))


def test_numpy_and_tensorflow_products_write_the_same_bytes(r2i_learned, monkeypatch):
  """Every product through TensorFlow's kernel, then through numpy's: the same file, so
  a decoder whose TensorFlow computes float32 inexactly (and falls back) reads it."""
  model = SavedCodec(r2i_learned).client.bit_model()
  grid = np.random.default_rng(7).integers(0, 2, (3, 4, 6, model.bits)).astype(np.uint8)
  assert bit_model_module._tensorflow_is_exact()  # pylint: disable=protected-access
  monkeypatch.setattr(bit_model_module, "_SMALL", {4: 0, 8: 0})
  through_tensorflow = learned_entropy.encode_stage(model, grid)
  monkeypatch.setattr(bit_model_module, "_tensorflow_is_exact", lambda: False)
  assert learned_entropy.encode_stage(model, grid) == through_tensorflow
  np.testing.assert_array_equal(
      learned_entropy.decode_stage(model, through_tensorflow, grid[:2], 4, 6), grid[2])


@pytest.mark.parametrize("fixture", ["r2i_learned", "ir2i_learned"])
def test_learned_files_decode_exactly_and_after_every_cut(request, fixture):
  codec = SavedCodec(request.getfixturevalue(fixture))
  image = smooth_image(70, 100)
  raw, learned = codec.compress(image), codec.compress(image, entropy_coded="learned")
  parsed = codec.parse(learned)
  assert parsed.entropy_coded and parsed.learned
  np.testing.assert_array_equal(codec.client.stage_bits(parsed),
                                codec.client.stage_bits(codec.parse(raw)))
  for stages in range(codec.first_code_stages, codec.config.stages + 1):
    cut = bitstream.truncate(learned, stages)
    assert cut == codec.compress(image, stages, entropy_coded="learned")
    np.testing.assert_array_equal(codec.decompress(cut).image,
                                  codec.decompress(bitstream.truncate(raw, stages)).image)


@pytest.mark.parametrize("coder", ["r2i", "ir2i-first1"])
def test_learned_files_decode_alike_in_a_fresh_one_thread_process(r2i_learned, ir2i_learned,
                                                                  tmp_path, coder):
  """R2I's learned files, and IR2I's written with a first code of stage 1 (read from the
  header by a decompress given no flag)."""
  image = smooth_image(96, 130, seed=3)
  Image.fromarray(image).save(tmp_path / "photo.png")
  folder = r2i_learned if coder == "r2i" else ir2i_learned
  codec = SavedCodec(folder, first_code_stages=None if coder == "r2i" else 1)
  (tmp_path / "photo.r2i").write_bytes(codec.compress(image, entropy_coded="learned"))
  environment = dict(os.environ, TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1",
                     OMP_NUM_THREADS="1")
  result = subprocess.run([sys.executable, "-m", "r2i_tf", "decompress", "--model",
                           str(folder), str(tmp_path / "photo.r2i"),
                           str(tmp_path / "out.png")], capture_output=True, text=True,
                          timeout=300, cwd=REPO_ROOT, env=environment)
  assert result.returncode == 0, result.stderr[-2000:]
  np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out.png")),
                                codec.decompress((tmp_path / "photo.r2i").read_bytes()).image)


def test_cli_codes_with_the_learned_model_and_refuses_without_one(r2i_learned, r2i_exported,
                                                                  tmp_path):
  Image.fromarray(smooth_image(40, 50)).save(tmp_path / "photo.png")
  coded = _run("-m", "r2i_tf", "compress", "--model", str(r2i_learned), "--entropy-coding",
               "learned", str(tmp_path / "photo.png"), str(tmp_path / "photo.r2i"))
  assert coded.returncode == 0, coded.stderr[-2000:]
  data = (tmp_path / "photo.r2i").read_bytes()
  assert bitstream.parse(data, None, None).learned
  # The same model without its bit_model.npz (the tiny codec's other copy) can neither
  # write nor read such files.
  _one_line_error(_run("-m", "r2i_tf", "compress", "--model", str(r2i_exported),
                       "--entropy-coding", "learned", str(tmp_path / "photo.png"),
                       str(tmp_path / "other.r2i")), "no learned bit model")
  _one_line_error(_run("-m", "r2i_tf", "decompress", "--model", str(r2i_exported),
                       str(tmp_path / "photo.r2i"), str(tmp_path / "out.png")),
                  "no learned bit model")


def test_bad_bit_models_and_flags_are_refused_in_one_line(r2i_learned, r2i_foreign, tmp_path):
  codec = SavedCodec(r2i_learned)
  data = codec.compress(smooth_image(40, 50), entropy_coded="learned")
  # The learned flag without the entropy-coded one: a file no writer makes.
  flags = bytearray(data)
  flags[15] &= ~bitstream.ENTROPY_CODED
  with pytest.raises(bitstream.BitstreamError, match="flags"):
    bitstream.parse(_r2i_reseal(bytes(flags)), None, None)
  # A bit model for another coder, or a damaged bit_model.npz.
  with pytest.raises(UserError, match="not for this R2I model"):
    SavedCodec(r2i_foreign).client.use_bit_model(codec.client.bit_model())
  folder = tmp_path / "codec"
  shutil.copytree(r2i_learned, folder)
  (folder / FILE_NAME).write_bytes((folder / FILE_NAME).read_bytes()[:100])
  with pytest.raises(UserError, match="is not an R2I bit model") as error:
    SavedCodec(folder).decompress(data)
  assert "\n" not in str(error.value)


def test_a_damaged_stage_is_refused_in_one_line(r2i_learned):
  codec = SavedCodec(r2i_learned)
  model = codec.client.bit_model()
  grid = np.random.default_rng(4).integers(0, 2, (1, 3, 4, model.bits)).astype(np.uint8)
  payload = learned_entropy.encode_stage(model, grid)
  np.testing.assert_array_equal(learned_entropy.decode_stage(model, payload, grid[:0], 3, 4),
                                grid[0])
  # The range decoder reads any bytes as some bits; coding them again shows the damage
  # (not always: a prefix can be the whole code of other bits; the file's CRCs see cuts).
  for damaged in (payload[::-1], b"", b"\xff" * len(payload), payload + b"\x00"):
    with pytest.raises(UserError, match="does not decode") as error:
      learned_entropy.decode_stage(model, damaged, grid[:0], 3, 4)
    assert "\n" not in str(error.value)


def test_a_stage_from_another_bit_model_names_the_likely_cause(r2i_exported):
  """The file names its coder, not its bit model: a stage written before the shipped bit
  model was retrained does not decode with the new one, and the error says why it may not."""
  writer, reader = tiny_bit_model(r2i_exported, seed=1), tiny_bit_model(r2i_exported, seed=2)
  grid = np.random.default_rng(5).integers(0, 2, (1, 3, 4, writer.bits)).astype(np.uint8)
  payload = learned_entropy.encode_stage(writer, grid)
  with pytest.raises(UserError, match="written with another bit model") as error:
    learned_entropy.decode_stage(reader, payload, grid[:0], 3, 4)
  assert "\n" not in str(error.value)


def test_saved_bit_model_loads_back_equal(r2i_exported, tmp_path):
  model = tiny_bit_model(r2i_exported)
  model.save(tmp_path / FILE_NAME)
  loaded = BitModel.load(tmp_path / FILE_NAME)
  for name in ("w_earlier", "w_above", "w_group", "b1", "w2", "b2", "w_adaptive", "thresholds"):
    np.testing.assert_array_equal(getattr(loaded, name), getattr(model, name))
  assert ((loaded.stages, loaded.groups, loaded.model_ids)
          == (model.stages, model.groups, model.model_ids))


def test_registry_names_the_learned_codec(r2i_learned):
  from compression_zoo.registry import make_codec  # pylint: disable=import-outside-toplevel
  codec = make_codec(f"r2i-learned:{r2i_learned}")
  assert codec.name.endswith("-learned") and "learned bit model" in codec.description
  roundtrips = codec.roundtrips(smooth_image(40, 50))
  assert [point.setting for point in roundtrips] == [1, 2, 3]


def test_thin_images_are_coded_column_by_column_and_decode_exactly(r2i_learned):
  codec = SavedCodec(r2i_learned)
  image = smooth_image(330, 20, seed=5)  # 11 x 1 blocks: coded transposed
  data = codec.compress(image, entropy_coded="learned")
  np.testing.assert_array_equal(codec.decompress(data).image,
                                codec.decompress(codec.compress(image)).image)


def test_bands_of_rows_change_no_byte(r2i_learned, monkeypatch):
  model = SavedCodec(r2i_learned).client.bit_model()
  grid = np.random.default_rng(6).integers(0, 2, (2, 5, 4, model.bits)).astype(np.uint8)
  whole = learned_entropy.encode_stage(model, grid)
  monkeypatch.setattr(learned_entropy, "BAND_BLOCKS", 8)  # bands of two rows
  assert learned_entropy.encode_stage(model, grid) == whole
  np.testing.assert_array_equal(learned_entropy.decode_stage(model, whole, grid[:1], 5, 4),
                                grid[1])
