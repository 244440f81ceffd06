"""compression_zoo.evaluate: workers, one codec or several in a shared pool, agree with serial."""
from __future__ import annotations

from compression_zoo.evaluate import evaluate_codec, worker_pool
from tests.conftest import smooth_image

IMAGES = [("a", smooth_image(40, 56, 1)), ("b", smooth_image(48, 40, 2)),
          ("c", smooth_image(32, 64, 3))]
SAME = ("bpp", "psnr-rgb", "ms-ssim-y")  # deterministic; coding times are not


def test_a_shared_pool_measures_each_codec_as_serial_coding_does():
  serial = {spec: evaluate_codec(spec, IMAGES) for spec in ("jpeg", "webp")}
  done = []
  with worker_pool(2) as pool:
    shared = {spec: evaluate_codec(spec, IMAGES, pool=pool, on_image=done.append)
              for spec in ("jpeg", "webp")}
  assert done == ["a", "b", "c"] * 2
  for spec, curve in shared.items():
    assert (curve.name, curve.description) == (serial[spec].name, serial[spec].description)
    for key in SAME:
      assert curve.results[key] == serial[spec].results[key], (spec, key)
  assert shared["jpeg"].results["bpp"] != shared["webp"].results["bpp"]
