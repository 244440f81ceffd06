"""Training the learned bit model: one example per block, stage and pass, each bit in the
loss of exactly one pass, and a quantised model whose rate is the float network's."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from compression_eval.errors import UserError
from r2i_tf import bit_contexts
from r2i_tf.bit_model import BitModel
from r2i_tf.bit_model_train import (_load_codes, examples, float_bits, integer_bits,
                                    masked_cross_entropy, train)


def _codes(seed: int, count: int = 3) -> list:
  """Grids (stages, rows, cols, 128) whose later passes copy the first, so that
  a bit model has something to learn."""
  rng = np.random.default_rng(seed)
  grids = []
  for _ in range(count):
    base = rng.integers(0, 2, (4, 3, 4, 4, 8)).astype(np.uint8)
    grids.append(np.tile(base, 4).reshape(4, 3, 4, 128))  # pass g repeats pass 0
  return grids


def test_every_bit_is_the_target_of_exactly_one_pass():
  codes = _codes(0, 1)
  context, adaptive, targets = examples(codes, groups=4)
  # one example per stage, pass and block
  assert len(context) == len(adaptive) == len(targets) == 4 * 4 * 12
  per_pass = targets.reshape(4, 4, 12, 128)  # stage, pass, block, bit
  coded = per_pass >= 0
  np.testing.assert_array_equal(coded.sum(axis=1), 1)
  np.testing.assert_array_equal(np.where(coded, per_pass, 0).sum(axis=1),
                                codes[0].reshape(4, 12, 128))
  passes = bit_contexts.channel_groups(128, 4)
  for group in range(4):
    np.testing.assert_array_equal(coded[:, group],
                                  np.broadcast_to(passes == group, (4, 12, 128)))


def test_masked_cross_entropy_leaves_out_other_passes_bits():
  logits = tf.constant([[2.0, -1.0, 5.0]])
  masked = masked_cross_entropy(tf.constant([[1.0, 0.0, -1.0]]), logits)
  expected = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
      tf.constant([[1.0, 0.0]]), logits[:, :2]))
  np.testing.assert_allclose(masked.numpy(), expected.numpy(), rtol=1e-6)


def test_trained_model_learns_and_quantises_at_the_float_rate():
  train_set, held = examples(_codes(1, 30), 4), examples(_codes(2, 2), 4)
  network = train(train_set, steps=1500, hidden=16)
  model = BitModel.quantise(network.tables(), 4, 4, [7])
  coded = np.count_nonzero(held[2] >= 0)
  learned, quantised = float_bits(network, *held) / coded, integer_bits(model, *held) / coded
  # A quarter of the bits (the first pass) are coin flips, the rest copies of them: 0.25
  # bits per bit is the floor, 1 what a model that learned nothing pays (1,500 steps of
  # three seeds gave 0.76-0.78).
  assert learned < 0.9
  assert abs(quantised - learned) < 0.03


def test_a_damaged_codes_file_is_a_one_line_error(tmp_path):
  path = tmp_path / "codes.npz"
  path.write_bytes(b"PK\x03\x04 not a zip")
  with pytest.raises(UserError, match="not a file of coded bits"):
    _load_codes(str(path))
  np.savez(path, c0=np.zeros((2, 3), np.float32))
  with pytest.raises(UserError, match="not a file of coded bits"):
    _load_codes(str(path))
