"""What codecs measured together share: the original's side of the metrics, the metrics of
pixels measured already, and R2I's networks' pass between the codings of its bits. Each
gives the figures measuring alone gives."""
from __future__ import annotations

import numpy as np
import pytest

from compression_eval import measure as measure_module
from compression_eval import metrics
from compression_zoo import evaluate
from r2i_tf import evaluation as r2i_evaluation
from r2i_tf.saved_codec import SavedCodec
from r2i_tf.serving_client import ServingClient
from tests.conftest import smooth_image

CODINGS = ("r2i", "r2i-ec", "r2i-learned")
SAME = ("setting", "bpp", "psnr-rgb", "ssim-y", "ms-ssim-rgb")  # coding times differ


def _noisy(image: np.ndarray, seed: int) -> np.ndarray:
  noise = np.random.default_rng(seed).integers(-12, 13, image.shape)
  return np.clip(image.astype(int) + noise, 0, 255).astype(np.uint8)


def test_one_reference_gives_each_reconstruction_what_a_fresh_one_does():
  original = smooth_image(70, 90, 1)
  reference = metrics.Reference(original)
  for seed in (1, 2, 1):  # the cached side is not changed by a comparison
    reconstruction = _noisy(original, seed)
    assert reference.metrics(reconstruction) == metrics.Reference(original).metrics(reconstruction)
  reconstruction = _noisy(original, 3)
  figures = reference.metrics(reconstruction)
  assert figures["ms-ssim-rgb"] == metrics.ms_ssim(original, reconstruction)
  assert figures["ssim-y"] == metrics.ssim(metrics.luma(original), metrics.luma(reconstruction))
  with pytest.raises(ValueError, match="differ in shape"):
    reference.metrics(reconstruction[:64])


def test_image_metrics_measure_each_set_of_pixels_once(monkeypatch):
  measured = []
  original = smooth_image(40, 48, 2)
  monkeypatch.setattr(metrics.Reference, "metrics",
                      lambda self, image: measured.append(image.copy()) or {"psnr-rgb": 1.0})
  image_metrics = measure_module.ImageMetrics(original)
  first = image_metrics(_noisy(original, 1))
  first["psnr-rgb"] = 0.0  # a record's figures are its own
  assert image_metrics(_noisy(original, 1)) == {"psnr-rgb": 1.0}  # equal pixels, another array
  image_metrics(_noisy(original, 2))
  assert len(measured) == 2


def test_codecs_measured_together_give_the_curves_of_each_alone():
  images = [("a", smooth_image(40, 56, 1)), ("b", smooth_image(48, 40, 2))]
  alone = [evaluate.evaluate_codec(spec, images) for spec in ("jpeg", "webp")]
  records = [{}, {}]
  together = evaluate.evaluate_codecs(["jpeg", "webp"], images, jobs=2, per_image=records)
  for curve, single, image_records in zip(together, alone, records):
    assert (curve.name, curve.description) == (single.name, single.description)
    assert curve.results["bpp"] == single.results["bpp"]
    assert curve.results["ms-ssim-rgb"] == single.results["ms-ssim-rgb"]
    assert sorted(image_records) == ["a", "b"]


@pytest.mark.parametrize("fixture", ["r2i_learned", "ir2i_learned"])
def test_r2i_codings_share_one_networks_pass_and_measure_as_alone(request, fixture,
                                                                   monkeypatch):
  path = request.getfixturevalue(fixture)
  image = smooth_image(64, 80, 3)
  specs = tuple(f"{coding}:{path}" for coding in CODINGS)
  alone = []
  for spec in specs:
    r2i_evaluation._passes.clear()
    alone.append(evaluate._measure_in_worker(((spec,), image))[0])
  passes = []
  bits = SavedCodec.bits
  monkeypatch.setattr(SavedCodec, "bits", lambda self, *args: passes.append(1) or bits(self, *args))
  r2i_evaluation._passes.clear()
  together = evaluate._measure_in_worker((specs, image))
  assert len(passes) == 1  # the encoder's networks ran once for the three codings
  for (name, _, records), (single_name, _, single_records) in zip(together, alone):
    assert name == single_name
    assert ([[record[key] for key in SAME] for record in records]
            == [[record[key] for key in SAME] for record in single_records])
  sizes = [[record["bpp"] for record in records] for _, _, records in together]
  assert sizes[1] != sizes[0] and sizes[2] != sizes[0]  # other files, same pixels


def test_a_coding_whose_file_decodes_to_other_bits_is_refused(r2i_learned, monkeypatch):
  image = smooth_image(64, 80, 4)
  r2i_evaluation._passes.clear()
  evaluate._measure_in_worker(((f"r2i:{r2i_learned}",), image))
  stage_bits = ServingClient.stage_bits

  def lossy(self, parsed):
    bits = stage_bits(self, parsed).copy()
    bits[0, 0, 0, 0, 0] ^= 1
    return bits

  monkeypatch.setattr(ServingClient, "stage_bits", lossy)
  with pytest.raises(RuntimeError, match="differ from those it was written from"):
    evaluate._measure_in_worker(((f"r2i:{r2i_learned}", f"r2i-ec:{r2i_learned}"), image))


def test_groups_streamed_to_the_workers_give_each_groups_curves_in_order():
  images = [("a", smooth_image(40, 56, 1)), ("b", smooth_image(48, 40, 2)),
            ("c", smooth_image(40, 40, 3))]
  alone = {spec: evaluate.evaluate_codec(spec, images) for spec in ("jpeg", "webp")}
  groups = [["jpeg", "webp"], ["webp"], ["jpeg"]]
  records = [[{} for _ in group] for group in groups]
  with evaluate.worker_pool(2) as pool:
    streamed = list(evaluate.evaluate_groups(groups, images, pool, per_image=records))
  assert len(streamed) == len(groups)
  for group, curves, group_records in zip(groups, streamed, records):
    assert [curve.name for curve in curves] == [alone[spec].name for spec in group]
    for spec, curve, image_records in zip(group, curves, group_records):
      assert all(curve.results[key] == alone[spec].results[key] for key in SAME)
      assert sorted(image_records) == ["a", "b", "c"]
