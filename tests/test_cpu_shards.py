"""A training step run as shards of its batch is the same step (compression_eval.cpu_shards)."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from compression_eval import cpu_shards
from compression_eval.errors import UserError
from r2i_tf.config import R2IConfig
from r2i_tf.models import R2I
from tests.r2i_fixtures import TINY
from tests.test_deepsic_cli import _one_line_error, _run


@pytest.mark.parametrize("batch, threads, expected", [
    (32, 2, 2), (32, 16, 4), (32, 3, 2), (16, 2, 2), (8, 2, 1), (1, 2, 1), (30, 4, 3)])
def test_the_count_fills_the_cores_with_shards_of_eight_or_more(monkeypatch, batch, threads,
                                                               expected):
  monkeypatch.setenv("TF_NUM_INTEROP_THREADS", str(threads))
  assert cpu_shards.shard_count(batch, None, gpu=False) == expected
  assert cpu_shards.shard_count(batch, None, gpu=True) == 1


def test_a_requested_count_must_divide_the_batch():
  assert cpu_shards.shard_count(32, 4, gpu=True) == 4
  for requested in (0, 3, 64):
    with pytest.raises(UserError, match="must be positive and divide the batch of 32"):
      cpu_shards.shard_count(32, requested, gpu=False)


class _Deterministic(R2I):
  """R2I whose training step binarises as at test time, so that two steps can be compared;
  it records the batch sizes its objective sees."""

  seen: list

  def _objective(self, patches, training):
    self.seen.append(int(patches.shape[0]))
    return super()._objective(patches, training=False)


def _one_step(shards: int, patches: tf.Tensor) -> _Deterministic:
  tf.keras.utils.set_random_seed(5)
  model = _Deterministic(R2IConfig(variant="decoding", **TINY))
  model.seen = []
  model.build_variables()
  model.shards = shards
  model.compile(optimizer=tf.keras.optimizers.SGD(1.0))
  model.fit(tf.data.Dataset.from_tensors(patches), epochs=1, verbose=0)
  return model


def test_a_sharded_step_is_the_whole_batchs_step():
  patches = tf.random.stateless_uniform((8, 32, 32, 3), seed=(3, 4))
  whole, sharded = _one_step(1, patches), _one_step(4, patches)
  assert set(whole.seen[1:]) == {8} and set(sharded.seen[1:]) == {2}  # [0]: build_variables
  other = _one_step(1, 0 * patches)
  moved = [np.abs(a - b).max() for a, b in zip(whole.trainable_weights, other.trainable_weights)]
  assert max(moved) > 1e-3  # the step moved the weights, so their agreement below says something
  for a, b in zip(whole.trainable_weights, sharded.trainable_weights):
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)
  assert np.isclose(whole.loss_tracker.result(), sharded.loss_tracker.result(), rtol=1e-5)


def test_the_trainer_refuses_shards_that_do_not_divide_the_batch(tmp_path):
  result = _run("scripts/train_r2i.py", "--dataset", f"folder:{tmp_path}", "--steps", "1",
                "--batch-size", "4", "--shards", "3", "--output", str(tmp_path / "run"))
  _one_line_error(result, "--shards 3 must be positive and divide the batch of 4")
