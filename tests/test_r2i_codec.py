"""Progressive R2I files: exact bit budget, truncation, odd sizes, bad files."""
from __future__ import annotations

import numpy as np
import pytest

from compression_eval.errors import UserError
from r2i_tf import bitstream, entropy
from r2i_tf.blocks import from_blocks, to_blocks
from r2i_tf.saved_codec import SavedCodec
from tests.conftest import smooth_image
from tests.r2i_fixtures import TINY, tiny_r2i


@pytest.fixture(scope="module")
def codec(r2i_exported) -> SavedCodec:
  return SavedCodec(r2i_exported)


@pytest.fixture(scope="module")
def image() -> np.ndarray:
  return smooth_image(70, 100, seed=5)  # 3 x 4 blocks, neither side a multiple of 32


def test_blocks_round_trip_any_size():
  for shape in ((1, 1), (33, 65), (64, 96)):
    image = smooth_image(*shape, seed=1)
    blocks = to_blocks(image)
    assert blocks.shape == (-(-shape[0] // 32) * -(-shape[1] // 32), 32, 32, 3)
    np.testing.assert_array_equal(from_blocks(blocks, *shape), image)


def test_decoded_stages_are_the_models_reconstructions(codec, image):
  # The codec (SavedModel + files) gives the in-process model's forward pass.
  model = tiny_r2i("decoding")
  blocks = to_blocks(image).astype(np.float32) / 255.0
  forward = np.clip(model(blocks).numpy(), 0, 1) * 255.0
  for stage, decoded in enumerate(codec.decode_stages(codec.compress(image))):
    expected = from_blocks(np.round(forward[stage]).astype(np.uint8), 70, 100)
    assert np.abs(decoded.astype(int) - expected.astype(int)).max() <= 1


def test_each_stage_costs_exactly_128_bits_per_block(codec, image):
  data = codec.compress(image)
  blocks = 3 * 4
  stages = TINY["stages"]
  assert len(data) == bitstream.header_size(stages) + stages * blocks * 128 // 8
  for k in range(1, stages + 1):
    assert len(bitstream.truncate(data, k)) == bitstream.header_size(k) + k * blocks * 16


def test_a_file_cut_after_stage_k_decodes_to_the_stage_k_image(codec, image):
  data = codec.compress(image)
  stages = codec.decode_stages(data)
  stage_bytes = 12 * 16
  header = bitstream.header_size(TINY["stages"])
  for k in range(1, TINY["stages"]):
    for cut in (header + k * stage_bytes, header + k * stage_bytes + 7):  # at and inside
      decoded = codec.decompress(data[:cut])
      assert (decoded.stages, decoded.stages_written) == (k, TINY["stages"])
      np.testing.assert_array_equal(decoded.image, stages[k - 1])
    written = codec.compress(image, stages=k)  # what --stages k writes
    assert written == bitstream.truncate(data, k)
    np.testing.assert_array_equal(codec.decompress(written).image, stages[k - 1])


@pytest.mark.parametrize("shape", [(1, 1), (33, 65), (512, 768)])
def test_odd_sizes_round_trip_and_compress_is_deterministic(codec, shape):
  image = smooth_image(*shape, seed=2)
  data = codec.compress(image)
  assert codec.compress(image) == data
  decoded = codec.decompress(data)
  assert decoded.image.shape == image.shape and decoded.stages == TINY["stages"]


def _flip(data: bytes, index: int) -> bytes:
  return data[:index] + bytes([data[index] ^ 0x10]) + data[index + 1:]


def test_bad_files_are_one_line_user_errors(codec, r2i_foreign, image):
  data = codec.compress(image)
  header = bitstream.header_size(TINY["stages"])
  foreign = SavedCodec(r2i_foreign).compress(image)
  cases = {
      b"": "too short",
      b"\x89PNG\r\n\x1a\n" + bytes(40): "wrong magic",
      data[:4] + b"\x09" + data[5:]: "version 9",
      foreign: "another R2I model",
      data[:20]: "header is incomplete",
      _flip(data, 10): "header checksum",
      _flip(data, header + 3): "stage 1 checksum",
      data[:header + 5]: "not even the first stage",
      data + b"\x00": "bytes after the last stage",
      np.random.default_rng(0).bytes(300): "not an R2I file",
  }
  for bad, message in cases.items():
    with pytest.raises(UserError, match=message) as raised:
      codec.decompress(bad)
    assert "\n" not in str(raised.value)


def test_a_size_that_does_not_match_the_payload_is_refused(codec, image):
  data = codec.compress(image)
  parsed = bitstream.parse(data, None, None)
  resized = bitstream.pack(codec.model_id, 200, 300, parsed.model_stages, parsed.payloads)
  with pytest.raises(UserError, match="does not match the image size"):
    codec.decompress(resized)
  too_many = parsed.payloads + parsed.payloads[:2]  # more stages than the model has
  with pytest.raises(UserError, match="declares 5 stages"):
    codec.decompress(bitstream.pack(codec.model_id, 70, 100, 5, too_many))


def test_missing_or_wrong_model_folder_is_a_user_error(tmp_path, exported):
  with pytest.raises(UserError, match="no R2I codec SavedModel"):
    SavedCodec(tmp_path)
  with pytest.raises(UserError, match="not an R2I codec"):
    SavedCodec(exported["post"])  # a DeepSIC codec


def test_entropy_coded_stages_decode_to_the_same_images_in_fewer_bytes_when_skewed(codec, image):
  plain = codec.compress(image)
  coded = codec.compress(image, entropy_coded=True)
  assert bitstream.parse(coded, None, None).entropy_coded
  stages = codec.decode_stages(plain)
  for got, expected in zip(codec.decode_stages(coded), stages):
    np.testing.assert_array_equal(got, expected)
  cut = bitstream.truncate(coded, 1)
  np.testing.assert_array_equal(codec.decompress(cut).image, stages[0])
  with pytest.raises(UserError, match="checksum"):
    codec.decompress(_flip(coded, len(coded) - 1))
  # The model's bits are skewed: each of a block's 128 positions mostly holds one value
  # across the 12 blocks, which the adaptive model learns from the rows above (tiny model:
  # 468 bytes against 620). Fair coin flips in their place cannot be predicted: coded, they
  # cost more than stored plain (665-671 bytes for rng seeds 0-2: what learning costs).
  bits = codec.bits(image)
  skew = np.abs(bits.reshape(len(bits), bits.shape[1], -1).mean(axis=1) - 0.5).mean(axis=1)
  assert np.all(skew > 0.2), skew  # 0 for balanced bits, 0.5 for constant ones
  balanced = np.random.default_rng(0).integers(0, 2, bits.shape).astype(np.uint8)
  coded_balanced = codec.client.file(balanced, *image.shape[:2], entropy_coded=True)
  assert len(coded) < 0.9 * len(plain) < len(plain) < len(coded_balanced)


def test_adaptive_model_learns_skewed_bits_and_round_trips_any_grid():
  rng = np.random.default_rng(0)
  probability = rng.uniform(0.02, 0.98, 128)
  for rows, cols in ((1, 1), (3, 5), (16, 24)):
    bits = (rng.uniform(size=(rows * cols, 128)) < probability).astype(np.uint8)
    bits = bits.reshape(rows * cols, 2, 2, 32)
    payload = entropy.encode_stage(bits, cols)
    np.testing.assert_array_equal(entropy.decode_stage(payload, bits.shape, cols), bits)
  # 384 blocks (a Kodak image): within 5% of the source's entropy, well under 1 bit a bit.
  information = -(probability * np.log2(probability) +
                  (1 - probability) * np.log2(1 - probability)).sum() * 384 / 8
  assert len(payload) < 1.05 * information < 0.8 * bits.size / 8
  # The range coder spends what its own model says, to within 1 % (plus its final bytes).
  ideal = entropy.ideal_bits(bits, 24)
  assert 0.99 * ideal <= 8 * len(payload) <= 1.01 * ideal + 32
  # Constant bits cost almost nothing once the rows above have shown them.
  assert entropy.ideal_bits(np.zeros_like(bits), 24) < 0.1 * bits.size
