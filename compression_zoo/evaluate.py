"""Runs a codec named by its spec over a set of images and averages its points.

Images are independent, so `jobs > 1` measures them in worker processes, each building
its own codec from the spec (codecs need not be picklable; spawned workers inherit no
TensorFlow state). Coding times are then taken with the workers running side by side:
use one job when the time columns matter more than the wall time.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.pool
import os
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from compression_eval.codecs import Codec
from compression_eval.measure import NamedImage, Record, curve_of, measure
from compression_eval.rd import RDCurve, average_by_setting
from compression_zoo.registry import make_codec

_worker_codecs: Dict[str, Codec] = {}


def _start_worker(threads: int) -> None:
  """Gives the worker's TensorFlow its share of the cores.

  Without the limit, every worker's TensorFlow sizes its thread pool to all cores, and
  `jobs` workers oversubscribe them. Set before any codec imports TensorFlow.
  """
  os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(threads))


def _measure_in_worker(task: Tuple[str, np.ndarray]) -> Tuple[str, str, List[Record]]:
  """(codec name, description, records) of one image; the worker keeps one codec loaded."""
  spec, image = task
  if spec not in _worker_codecs:
    _worker_codecs.clear()  # models are large: hold the current codec only
    _worker_codecs[spec] = make_codec(spec)
  codec = _worker_codecs[spec]
  return codec.name, codec.description, measure(codec, image)


def worker_pool(jobs: int) -> multiprocessing.pool.Pool:
  """`jobs` spawned workers sharing the cores, for one codec or many in turn.

  Passing one pool to several `evaluate_codec` calls starts TensorFlow once per worker
  rather than once per codec, and lets other work (exports) run in the same workers.
  """
  threads = max(1, (os.cpu_count() or 1) // jobs)
  with _blas_threads(threads):
    return multiprocessing.get_context("spawn").Pool(jobs, initializer=_start_worker,
                                                     initargs=(threads,))


@contextlib.contextmanager
def _blas_threads(threads: int) -> Iterator[None]:
  """Processes spawned inside give numpy's BLAS `threads` threads: it reads the count when
  numpy loads, before a worker's initializer runs, and `jobs` workers each spinning a
  thread per core made the learned bit model's coder a third slower on Kodak
  (docs/r2i_bit_model.md, Timing)."""
  names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
  saved = {name: os.environ.get(name) for name in names}
  os.environ.update({name: os.environ.get(name, str(threads)) for name in names})
  try:
    yield
  finally:
    for name, value in saved.items():
      if value is None:
        os.environ.pop(name)
      else:
        os.environ[name] = value


def evaluate_codec(spec: str, images: Sequence[NamedImage], jobs: int = 1,
                   on_image: Callable[[str], None] = lambda name: None,
                   codec: Optional[Codec] = None,
                   pool: Optional[multiprocessing.pool.Pool] = None,
                   per_image: Optional[Dict[str, List[Record]]] = None) -> RDCurve:
  """The curve of the codec `spec` names, averaged over `images`.

  `on_image` is called with each image's name once it is done (a progress bar). Without
  a `pool`, a `codec` already built from `spec` is used as it is rather than loaded
  again, and `jobs > 1` starts workers for this codec alone. `per_image`, when given,
  receives each image's own records under its name.
  """
  per_image = {} if per_image is None else per_image
  if pool is None and (jobs <= 1 or len(images) <= 1):
    return curve_of(codec or make_codec(spec), images, on_image, per_image)
  with contextlib.ExitStack() as stack:
    if pool is None:
      pool = stack.enter_context(worker_pool(min(jobs, len(images))))
    records, identity = [], ("", "")
    results = pool.imap(_measure_in_worker, [(spec, image) for _, image in images])
    for (name, _), (codec_name, description, image_records) in zip(images, results):
      identity = (codec_name, description)
      per_image[name] = image_records
      records.extend(image_records)
      on_image(name)
  return average_by_setting(*identity, records)
