"""Runs a codec over a set of images and averages its rate-distortion points.

Images are independent, so `jobs > 1` measures them in worker processes, each building
its own codec from the spec (codecs need not be picklable; spawned workers inherit no
TensorFlow state). Coding times are then taken with the workers running side by side:
use one job when the time columns matter more than the wall time.
"""
from __future__ import annotations

import multiprocessing
import os
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from compression_eval.codecs import Codec, make_codec
from compression_eval.metrics import all_metrics
from compression_eval.rd import RDCurve, average_by_setting

NamedImage = Tuple[str, np.ndarray]
Record = Dict[str, float]


def measure(codec: Codec, image: np.ndarray) -> List[Record]:
  """One record per setting for one image: bpp, every metric, and coding times."""
  height, width = image.shape[:2]
  records = []
  for roundtrip in codec.roundtrips(image):
    if roundtrip.reconstruction.shape != image.shape:
      raise ValueError(f"{codec.name} returned shape {roundtrip.reconstruction.shape} "
                       f"for an image of shape {image.shape}")
    records.append({
        "setting": roundtrip.setting,
        "bpp": roundtrip.num_bits / (height * width),
        **all_metrics(image, roundtrip.reconstruction),
        "encoding_time": roundtrip.encode_seconds,
        "decoding_time": roundtrip.decode_seconds,
    })
  return records


_worker_codec: Optional[Codec] = None


def _start_worker(spec: str, threads: int) -> None:
  """Builds the worker's codec; TensorFlow in it gets its share of the cores.

  Without the limit, every worker's TensorFlow sizes its thread pool to all cores, and
  `jobs` workers oversubscribe them. Set before the codec imports TensorFlow.
  """
  global _worker_codec  # pylint: disable=global-statement
  os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(threads))
  _worker_codec = make_codec(spec)


def _measure_in_worker(image: np.ndarray) -> List[Record]:
  assert _worker_codec is not None
  return measure(_worker_codec, image)


def evaluate_codec(spec: str, images: Sequence[NamedImage], jobs: int = 1,
                   on_image: Callable[[str], None] = lambda name: None,
                   codec: Optional[Codec] = None) -> RDCurve:
  """The curve of the codec `spec` names, averaged over `images`.

  `on_image` is called with each image's name once it is done (a progress bar). A
  `codec` already built from `spec` is used as it is, rather than loaded again.
  """
  codec = codec or make_codec(spec)
  records: List[Record] = []
  if jobs <= 1 or len(images) <= 1:
    for name, image in images:
      records.extend(measure(codec, image))
      on_image(name)
  else:
    context = multiprocessing.get_context("spawn")
    workers = min(jobs, len(images))
    threads = max(1, (os.cpu_count() or 1) // workers)
    with context.Pool(workers, initializer=_start_worker, initargs=(spec, threads)) as pool:
      results = pool.imap(_measure_in_worker, [image for _, image in images])
      for (name, _), image_records in zip(images, results):
        records.extend(image_records)
        on_image(name)
  return average_by_setting(codec.name, codec.description, records)
