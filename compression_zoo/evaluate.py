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
from compression_eval.measure import ImageMetrics, NamedImage, Record, curve_of, measure
from compression_eval.rd import RDCurve, average_by_setting
from compression_zoo.registry import make_codec

_worker_codecs: Dict[str, Codec] = {}


def _start_worker(threads: int) -> None:
  """Gives the worker's TensorFlow its share of the cores.

  Without the limit, every worker's TensorFlow sizes its thread pool to all cores, and
  `jobs` workers oversubscribe them. Set before any codec imports TensorFlow.
  """
  os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(threads))


def _measure_in_worker(task: Tuple[Tuple[str, ...], np.ndarray]
                       ) -> List[Tuple[str, str, List[Record]]]:
  """(codec name, description, records) of one image for each spec, in order.

  The worker keeps the group's codecs loaded, and the specs share the metrics of pixels
  one of them measured already (`ImageMetrics`): the codings of one model decode
  to the same pixels.
  """
  specs, image = task
  if set(specs) != set(_worker_codecs):
    _worker_codecs.clear()  # models are large: hold the current group only
  metrics = ImageMetrics(image)
  results = []
  for spec in specs:
    if spec not in _worker_codecs:
      _worker_codecs[spec] = make_codec(spec)
    codec = _worker_codecs[spec]
    results.append((codec.name, codec.description, measure(codec, image, metrics)))
  return results


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
  return evaluate_codecs([spec], images, jobs, on_image, pool, [per_image])[0]


def evaluate_codecs(specs: Sequence[str], images: Sequence[NamedImage], jobs: int = 1,
                    on_image: Callable[[str], None] = lambda name: None,
                    pool: Optional[multiprocessing.pool.Pool] = None,
                    per_image: Optional[Sequence[Dict[str, List[Record]]]] = None
                    ) -> List[RDCurve]:
  """The curves of several codecs, measured together image by image in the workers.

  Each image is coded by every spec in turn in one worker, so codecs of one model's bits
  (R2I raw and range-coded, DeepSIC with either entropy model) share what they have in
  common on that image: its metrics (`measure`) and, for R2I, the networks' pass
  (`r2i_tf.evaluation`). `per_image`, when given, holds one dict per spec, receiving
  each image's records of that spec.
  """
  with contextlib.ExitStack() as stack:
    if pool is None:
      pool = stack.enter_context(worker_pool(max(1, min(jobs, len(images)))))
    return next(evaluate_groups([specs], images, pool, on_image,
                                None if per_image is None else [per_image]))


def evaluate_groups(groups: Sequence[Sequence[str]], images: Sequence[NamedImage],
                    pool: multiprocessing.pool.Pool,
                    on_image: Callable[[str], None] = lambda name: None,
                    per_image: Optional[Sequence[Sequence[Dict[str, List[Record]]]]] = None
                    ) -> Iterator[List[RDCurve]]:
  """Each group's curves (`evaluate_codecs` of its specs), in order, as soon as its
  last image is measured.

  The tasks of every group go to the workers as one stream, so a worker that is done
  with a group's images starts on the next group's rather than waiting for the other
  workers to finish theirs: on Kodak one image of IR2I's codings takes tens of seconds.
  A worker loads a group's codecs when its first image of that group reaches it.
  `per_image`, when given, holds per group one dict per spec (as `evaluate_codecs`).
  """
  per_image = ([[{} for _ in specs] for specs in groups] if per_image is None
               else per_image)
  tasks = [(tuple(specs), image) for specs in groups for _, image in images]
  results = pool.imap(_measure_in_worker, tasks)
  for specs, group_per_image in zip(groups, per_image):
    records: List[List[Record]] = [[] for _ in specs]
    identities = [("", "")] * len(specs)
    for (name, _), measured in zip(images, results):
      for index, (codec_name, description, image_records) in enumerate(measured):
        identities[index] = (codec_name, description)
        group_per_image[index][name] = image_records
        records[index].extend(image_records)
      on_image(name)
    yield [average_by_setting(*identity, spec_records)
           for identity, spec_records in zip(identities, records)]
