"""The shipped models still give the figures the report states.

Each codec in saved_models/ is rebuilt from its weights (the module its SavedModel would
hold, run in this process), codes Kodak images again and must land on the bpp and PSNR
that `scripts/reproduce_tables.py` recorded for those images in reports/results.json.
A changed weight, a changed codec or a stale report fails here until the report is
regenerated.
"""
from __future__ import annotations

import json

import pytest

from compression_eval import shipped
from compression_eval.measure import measure
from compression_zoo import reproduce_tables, zoo
from compression_eval.images import read_rgb8
from deepsic_tf.evaluation import DeepSICEvalCodec
from deepsic_tf.saved_codec import SavedCodec as DeepSICCodec
from r2i_tf.evaluation import R2IEvalCodec
from r2i_tf.saved_codec import SavedCodec as R2ICodec
from tests.conftest import REPO_ROOT

MODELS = REPO_ROOT / "saved_models"
RESULTS = REPO_ROOT / "reports" / "results.json"
# The report's files come from exported SavedModels, these from the same modules in
# process: the bytes agree, the pixels up to float rounding (docs/decoding_exactness.md).
BPP_TOLERANCE, PSNR_TOLERANCE = 0.01, 0.05
# IR2I codes an image in some 30 s on 2 cores (the wavefront is a sequence of calls):
# one image each; the others, two.
IMAGES = {"r2i-ir2i": ("kodim01",), "r2i-ir2i-separate": ("kodim01",)}
CODECS = [model.name for model in zoo.MODELS if model.is_codec]
# Table 2's range-coded curves: the report's name for each (model, coding, IR2I first code).
ENTROPY_CODED = {f"{name}{suffix}": (name, coding, None)
                 for name in reproduce_tables.ENTROPY_CODED
                 for suffix, coding in (("-entropy-coded", "adaptive"), ("-learned", "learned"))}
# IR2I with a one-stage first code, raw and learned (beyond the paper).
ENTROPY_CODED.update({f"{name}{reproduce_tables.FIRST_CODE_1}{suffix}": (name, coding, 1)
                      for name in reproduce_tables.FIRST_CODE_1_CODED
                      for suffix, coding in (("", "raw"), ("-learned", "learned"))})
# DeepSIC's context-coded files (`deepsic_tf.context_coding`), each model's own curve.
ENTROPY_CODED.update({f"{model.name}{reproduce_tables.CONTEXT}": (model.name, "context", None)
                      for model in zoo.MODELS if model.trainer == "deepsic" and model.is_codec})


@pytest.fixture(scope="module")
def per_image() -> dict:
  return json.loads(RESULTS.read_text())["per_image"]


def _eval_codec(name: str):
  name, coding, first_code = ENTROPY_CODED.get(name, (name, "raw", None))
  model = zoo.by_name(name)
  folder = MODELS / name
  loaded = zoo.load(folder, model.trainer)
  if model.trainer == "deepsic":
    return DeepSICEvalCodec(str(folder / "codec"), codec=DeepSICCodec.of_model(loaded),
                            context_coded=coding == "context")
  return R2IEvalCodec(str(folder / "codec"),
                      codec=R2ICodec.of_model(loaded, first_code_stages=first_code),
                      entropy_coded=coding)


def test_every_shipped_codec_is_in_the_report(per_image):
  assert sorted(per_image) == sorted([*CODECS, *ENTROPY_CODED])
  for name in [*CODECS, *ENTROPY_CODED]:
    assert len(per_image[name]) == 24, f"{name}: the report codes {len(per_image[name])} images"


@pytest.mark.parametrize("name", [*CODECS, *ENTROPY_CODED])
def test_a_shipped_codec_gives_the_reported_figures(name, per_image, kodak_dir):
  codec = _eval_codec(name)
  for image_name in IMAGES.get(ENTROPY_CODED.get(name, (name,))[0], ("kodim01", "kodim02")):
    records = measure(codec, read_rgb8(kodak_dir / f"{image_name}.png"))
    reported = per_image[name][image_name]
    assert [record["setting"] for record in records] == [row["setting"] for row in reported]
    for record, row in zip(records, reported):
      where = f"{name} {image_name} setting {row['setting']}"
      assert record["bpp"] == pytest.approx(row["bpp"], abs=BPP_TOLERANCE), where
      assert record["psnr-rgb"] == pytest.approx(row["psnr-rgb"], abs=PSNR_TOLERANCE), where


@pytest.mark.parametrize("name", [model.name for model in zoo.MODELS])
def test_a_shipped_model_records_where_it_came_from(name):
  summary = json.loads((MODELS / name / "summary.json").read_text())
  assert isinstance(summary["seed"], int) and summary["batch_size"] > 0
  recorded = summary["provenance"]
  assert len(recorded["commit"]) == 40 and recorded["utc"]
  for library in ("python", "tensorflow", "tensorflow-compression", "Pillow", "numpy"):
    assert recorded[library][0].isdigit(), f"{name}: no {library} version"


@pytest.mark.parametrize("name", [model.name for model in zoo.MODELS])
def test_the_report_was_measured_with_the_shipped_weights(name):
  """Every shipped model, codec or not (the reference classifier, the inpainters): its
  weight file is the one whose digest the report recorded, so new weights fail here until
  `reproduce_tables.py` measures them again."""
  recorded = json.loads(RESULTS.read_text())["weights"]
  assert shipped.weights_digest(REPO_ROOT / "saved_models" / name) == recorded[name], (
      f"saved_models/{name} changed since reports/ was generated: run reproduce_tables.py")
