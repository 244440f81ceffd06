"""One training step as independent shards of its batch, run side by side on the CPU's cores.

The progressive coders' convolutions are small (2x2 to 32x32, 3 to 128 channels), and
one convolution split over two threads runs only 1.4 times faster than on one. Cut the
batch into shards instead, each a whole forward and backward pass of its own: TensorFlow
runs independent ops concurrently, one inter-op thread per shard, each convolution on
one core. The shards' losses are batch means of equal batches, so their mean is the
batch's loss and its gradient the same step's (benchmarks/r2i_step.py measures what it
gives; two shards on two cores take about 1.6 times fewer milliseconds a step).

Free of TensorFlow at import: the trainer picks the count before TensorFlow starts.
"""
from __future__ import annotations

import os
from typing import Callable, Optional

from compression_eval.errors import UserError

# Fewer samples than this in a shard and its convolutions get too small to pay.
MIN_SHARD = 8


def cpu_cores() -> int:
  """Cores this process may run on."""
  return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def shard_count(batch: int, requested: Optional[int], gpu: bool) -> int:
  """How many shards a step of `batch` samples runs as.

  `requested` (`--shards`) is taken as given if it divides the batch; None picks the
  largest divisor of the batch that is at most the cores (or `TF_NUM_INTEROP_THREADS`,
  where set) and leaves each shard MIN_SHARD samples or more; on a GPU, one.

  Raises:
    UserError: a requested count that is not positive or does not divide the batch.
  """
  if requested is not None:
    if requested < 1 or batch % requested:
      raise UserError(f"--shards {requested} must be positive and divide the batch of {batch}")
    return requested
  if gpu:
    return 1
  threads = int(os.environ.get("TF_NUM_INTEROP_THREADS") or cpu_cores())
  return max(n for n in range(1, max(threads, 1) + 1)
             if batch % n == 0 and (n == 1 or batch // n >= MIN_SHARD))


def use_threads_for(shards: int) -> None:
  """One inter-op thread per shard and the cores shared out between them.

  Only before TensorFlow has run anything; later (a second run in one process, as in
  tests) the threads stay as they are, which changes the speed, not the step.
  """
  if shards == 1:
    return
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  try:
    tf.config.threading.set_inter_op_parallelism_threads(shards)
    tf.config.threading.set_intra_op_parallelism_threads(max(1, cpu_cores() // shards))
  except RuntimeError:  # TensorFlow has started: its thread pools are fixed
    pass


def sharded_mean(objective: Callable, inputs, shards: int):
  """The mean of `objective` over `shards` equal slices of the batch `inputs`.

  `objective` must return a batch mean (as every loss here is), so that the result is the
  loss of the whole batch.
  """
  if shards == 1:
    return objective(inputs)
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  return tf.add_n([objective(part) for part in tf.split(inputs, shards)]) / shards
