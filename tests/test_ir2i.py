"""IR2I: the joint objective, inpainting-aware coding, the raster and wavefront scans."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from compression_eval.errors import UserError
from r2i_tf import bitstream, scan
from r2i_tf.blocks import to_blocks
from r2i_tf.inpainting import drop_missing_context, mask_context, training_context
from r2i_tf.saved_codec import SavedCodec
from tests.conftest import smooth_image
from tests.r2i_fixtures import tiny_ir2i


@pytest.fixture(scope="module")
def codec(ir2i_exported) -> SavedCodec:
  return SavedCodec(ir2i_exported)


def _crops(count: int, seed: int) -> tf.Tensor:
  return tf.constant(np.stack([smooth_image(64, 64, seed=seed + i) for i in range(count)]),
                     tf.float32) / 255.0


def test_every_stage_adds_the_inpainting_and_training_lowers_eq4():
  model = tiny_ir2i(joint=True)
  crops = _crops(8, seed=0)
  outputs = model(crops)
  assert outputs.shape == (1 + 3, 8, 32, 32, 3)
  # Stage s = inpainting + the coder's reconstruction of R_0 = P - inpainting.
  scaled = 2.0 * crops - 1.0
  inpainting = model.inpaint(mask_context(scaled))
  codes = model.encode_residual(crops[:, 32:, 32:], inpainting)
  np.testing.assert_allclose(model.decode_residual(codes, inpainting), outputs[1:], atol=1e-5)
  model.compile(optimizer=tf.keras.optimizers.Adam(3e-3))
  before = model.evaluate(crops, verbose=0, return_dict=True)["loss"]
  model.fit(crops, batch_size=8, epochs=30, verbose=0)
  assert model.evaluate(crops, verbose=0, return_dict=True)["loss"] < 0.9 * before


def test_separate_training_leaves_the_inpainter_frozen():
  model = tiny_ir2i(joint=False)
  inpainter_before = [w.numpy().copy() for w in model.inpainter.weights]
  coder_before = [w.numpy().copy() for w in model.coder.trainable_weights]
  model.compile(optimizer=tf.keras.optimizers.Adam(1e-2))
  model.fit(_crops(4, seed=3), batch_size=4, epochs=2, verbose=0)
  assert all((a == w.numpy()).all() for a, w in zip(inpainter_before, model.inpainter.weights))
  assert any((a != w.numpy()).any() for a, w in zip(coder_before, model.coder.trainable_weights))


def test_training_hides_the_top_or_left_context_and_nothing_else():
  crops = tf.ones((2000, 64, 64, 3))
  dropped = drop_missing_context(mask_context(crops), tf.constant([True, False] * 1000),
                                 tf.constant([False, True] * 1000)).numpy()
  assert dropped[0, :32].sum() == 0 and dropped[0, 32:, :32].all()
  assert dropped[1, :, :32].sum() == 0 and dropped[1, :32, 32:].all()
  tf.random.set_seed(0)
  context = training_context(crops, training=True).numpy()
  top, left = context[:, 0, 40, 0] == 0, context[:, 40, 0, 0] == 0
  # MISSING_CONTEXT_RATE, 5.2 % a side, within 3 standard errors of 2000 draws (0.005)
  assert abs(top.mean() - 0.052) < 0.015 and abs(left.mean() - 0.052) < 0.015
  assert (training_context(crops, training=False).numpy() == mask_context(crops).numpy()).all()


def test_wavefront_groups_are_anti_diagonals_whose_context_is_already_coded():
  groups = scan.scan_groups(16, 24, "wavefront")
  assert len(groups) == 39 and len(scan.scan_groups(16, 24, "raster")) == 384
  done = set()
  for group in groups:
    for index in group:
      row, col = divmod(int(index), 24)
      for neighbour in ((row - 1, col - 1), (row - 1, col), (row, col - 1)):
        if min(neighbour) >= 0:
          assert neighbour[0] * 24 + neighbour[1] in done
    done.update(int(index) for index in group)
  assert done == set(range(384))


def test_contexts_are_the_first_code_reconstructions_with_zeros_outside_the_image():
  seen = {}

  def inpaint(contexts):
    for context in contexts:
      seen[len(seen)] = context.copy()
    return np.zeros((len(contexts), 32, 32, 3), np.float32)

  first = {0: 10, 1: 20, 2: 30, 3: 40}  # a constant uint8 value per block (2 x 2 grid)
  scan.run_scan(2, 2, "raster", inpaint,
                lambda inpainting, group: np.full((len(group), 32, 32, 3), first[int(group[0])],
                                                  np.uint8))
  level = lambda value: 2.0 * value / 255.0 - 1.0  # noqa: E731
  assert np.abs(seen[0]).max() == 0  # top-left: no context at all
  assert np.abs(seen[1][:32]).max() == 0 and np.allclose(seen[1][32:, :32], level(10))
  assert np.abs(seen[2][:, :32]).max() == 0 and np.allclose(seen[2][:32, 32:], level(10))
  assert np.allclose(seen[3][:32, :32], level(10)) and np.allclose(seen[3][:32, 32:], level(20))
  assert np.allclose(seen[3][32:, :32], level(30)) and np.abs(seen[3][32:, 32:]).max() == 0


@pytest.mark.parametrize("entropy_coded", [False, True])
def test_raster_and_wavefront_give_identical_bytes_and_pixels_on_an_odd_size(codec,
                                                                              entropy_coded):
  image = smooth_image(75, 101, seed=4)  # 3 x 4 blocks, neither side a multiple of 32
  raster = codec.compress(image, entropy_coded=entropy_coded, scan_order="raster")
  wavefront = codec.compress(image, entropy_coded=entropy_coded, scan_order="wavefront")
  assert raster == wavefront
  parsed = codec.parse(raster)
  assert parsed.first_code_stages == 2
  by_raster = codec.decode_parsed(parsed, "raster")
  by_wavefront = codec.decode_parsed(parsed, "wavefront")
  for a, b in zip(by_raster, by_wavefront):
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("first_code", [2, 1])
def test_decoded_stages_inpaint_from_the_decoded_first_code(ir2i_exported, first_code):
  # End to end: rebuild every context from the decoded first-code image (stage 2, the
  # paper's, or stage 1), inpaint all blocks in one batch in-process, and the file's
  # stages are the coder's output plus that.
  codec = SavedCodec(ir2i_exported, first_code_stages=first_code)
  image = smooth_image(64, 96, seed=6)  # whole blocks: the decoded image is the canvas
  stages = codec.decode_stages(codec.compress(image))
  model = tiny_ir2i()
  canvas = np.zeros((96, 128, 3), np.float32)
  canvas[32:, 32:] = 2.0 * stages[first_code - 1] / 255.0 - 1.0
  contexts = np.stack([canvas[r * 32:r * 32 + 64, c * 32:c * 32 + 64] for r in range(2)
                       for c in range(3)])
  inpainting = model.inpaint(mask_context(tf.constant(contexts)))
  codes = model.encode_residual(tf.constant(to_blocks(image), tf.float32) / 255.0, inpainting)
  expected = np.clip(model.decode_residual(codes, inpainting).numpy(), 0, 1) * 255.0
  for stage in range(3):
    decoded = to_blocks(stages[stage]).astype(int)
    assert np.abs(decoded - np.round(expected[stage])).max() <= 1


def test_a_file_cut_after_the_first_code_decodes_and_one_cut_inside_it_is_refused(codec):
  image = smooth_image(40, 70, seed=7)
  data = codec.compress(image)
  full = codec.decode_stages(data)
  first = bitstream.truncate(data, 2)
  assert first == codec.compress(image, stages=2)
  decoded = codec.decompress(first)
  assert decoded.stages == 2
  np.testing.assert_array_equal(decoded.image, full[1])
  cut = bitstream.header_size(3) + len(bitstream.parse(data, None, None).payloads[0]) + 5
  with pytest.raises(bitstream.BitstreamError, match="first code"):
    codec.decompress(data[:cut])
  with pytest.raises(UserError, match="between 2 and 3"):
    codec.compress(image, stages=1)


def test_corrupt_and_foreign_files_are_one_line_errors(codec, r2i_exported):
  image = smooth_image(40, 70, seed=8)
  data = bytearray(codec.compress(image))
  flipped = bytes(data[:-3]) + bytes([data[-3] ^ 0x10]) + bytes(data[-2:])
  with pytest.raises(bitstream.BitstreamError, match="checksum"):
    codec.decompress(flipped)
  with pytest.raises(bitstream.BitstreamError, match="another R2I model"):
    SavedCodec(r2i_exported).decompress(bytes(data))
  r2i_file = SavedCodec(r2i_exported).compress(image)
  with pytest.raises(bitstream.BitstreamError, match="another R2I model"):
    codec.decompress(r2i_file)
  # An R2I file claiming a two-stage first code (header re-signed): refused, R2I has none.
  parsed = bitstream.parse(r2i_file, None, None)
  relabelled = bitstream.pack(parsed.model_id, parsed.height, parsed.width,
                              parsed.model_stages, parsed.payloads, first_code_stages=2)
  with pytest.raises(bitstream.BitstreamError, match="first code"):
    SavedCodec(r2i_exported).decompress(relabelled)
  with pytest.raises(UserError, match="only IR2I"):
    SavedCodec(r2i_exported, first_code_stages=2)
  with pytest.raises(UserError, match="1 to 3 stages"):
    SavedCodec(codec.path, first_code_stages=4)


def test_a_one_stage_first_code_is_declared_and_decoded_without_being_asked(codec,
                                                                             ir2i_exported):
  """`first_code_stages=1`: a file that stops after stage 1 exists, the header says how
  the inpainting context was made, and the model's default codec decodes it by that."""
  image = smooth_image(75, 101, seed=9)
  one = SavedCodec(ir2i_exported, first_code_stages=1)
  data = one.compress(image)
  assert one.parse(data).first_code_stages == 1
  assert data != codec.compress(image)  # the context, so every stage's bits, differ
  stages = one.decode_stages(data)
  assert len(stages) == 3
  for read_by in (codec, one):
    for k in (1, 2, 3):
      decoded = read_by.decompress(bitstream.truncate(data, k))
      assert decoded.stages == k
      np.testing.assert_array_equal(decoded.image, stages[k - 1])
  assert one.compress(image, stages=1) == bitstream.truncate(data, 1)
