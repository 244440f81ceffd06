"""The partial-context inpainting task (paper 2, Table 1) and its classical inpainters."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from compression_eval import partial_context as pc
from tests.conftest import REPO_ROOT, smooth_image
from tests.test_deepsic_cli import _one_line_error


def test_cases_hold_every_block_with_only_the_decoded_context():
  image = smooth_image(96, 128, seed=2)  # 3 x 4 blocks
  cases = pc.image_cases(image)
  assert cases.contexts.shape == (12, 64, 64, 3) and cases.targets.shape == (12, 32, 32, 3)
  np.testing.assert_array_equal(cases.targets[5], image[32:64, 32:64])
  assert not cases.known[0].any()  # the top-left block has no context at all
  assert cases.known[1][:32].sum() == 0 and cases.known[1][32:, :32].all()  # top row
  assert cases.known[4][:, :32].sum() == 0 and cases.known[4][:32, 32:].all()  # left column
  inner = cases.known[5]
  assert inner.sum() == 3 * 32 * 32 and not inner[32:, 32:].any()
  np.testing.assert_allclose(cases.contexts[5][:32, :32], image[:32, :32] / 255.0, atol=1e-6)
  assert (cases.contexts[~cases.known] == 0).all()


def test_a_sample_of_blocks_is_seeded_and_scores_the_same_blocks_as_all():
  image = smooth_image(128, 160, seed=3)  # 4 x 5 blocks
  cases = pc.image_cases(image)

  def chosen(seed: int) -> list:
    sample = pc.sample_cases(cases, 0.25, seed)
    return [next(i for i, t in enumerate(cases.targets) if (t == s).all())
            for s in sample.targets]

  assert len(chosen(7)) == 5 and chosen(7) == chosen(7) == sorted(chosen(7))
  np.testing.assert_array_equal(pc.sample_cases(cases, 0.25, 7).contexts,
                                cases.contexts[chosen(7)])
  every = pc.evaluate([image], {"bi": pc.biharmonic})["bi"]
  sampled = pc.evaluate([image], {"bi": pc.biharmonic}, fraction=0.25)["bi"]  # image 0: seed 0
  np.testing.assert_allclose(sampled, np.array(every)[chosen(0)])


def test_exemplar_keeps_known_pixels_and_continues_a_periodic_texture_exactly():
  # Vertical stripes of period 4: every 9x9 known patch has an exact match for any
  # partially known patch, so copying the best exemplar reproduces the stripes.
  x = np.arange(48)
  stripes = np.broadcast_to(((x % 4) < 2)[np.newaxis, :, np.newaxis], (48, 48, 3)).astype(float)
  unknown = np.zeros((48, 48), bool)
  unknown[24:, 24:] = True
  filled = pc.criminisi_fill(np.where(unknown[..., None], 0.0, stripes), unknown)
  np.testing.assert_array_equal(filled[~unknown], stripes[~unknown])
  assert np.abs(filled - stripes).max() < 1e-6


def test_biharmonic_continues_a_smooth_ramp():
  y, x = np.mgrid[0:64, 0:64] / 64.0
  ramp = np.stack([0.2 + 0.5 * x, 0.3 + 0.4 * y, 0.5 + 0.2 * (x + y) / 2], -1).astype(np.float32)
  cases = pc.image_cases(np.round(ramp * 255).astype(np.uint8))
  predicted = pc.biharmonic(cases.contexts[3:], cases.known[3:])
  error = np.abs(predicted[0] - cases.targets[3] / 255.0)
  # Exact along the known edges; the far corner, an extrapolation, bends a little.
  assert error[0].max() < 0.01 and error[:, 0].max() < 0.01 and error.mean() < 0.02


def test_blocks_without_context_are_grey_and_scores_rank_inpainters():
  y, x = np.mgrid[0:64, 0:96]
  stripes = np.where((x + y) % 8 < 4, 200, 40).astype(np.uint8)  # diagonal, period 8
  image = np.repeat(stripes[..., np.newaxis], 3, axis=-1)
  cases = pc.image_cases(image)
  for inpainter in (pc.biharmonic, pc.exemplar):
    assert (inpainter(cases.contexts[:1], cases.known[:1]) == pc.GREY).all()
  oracle = lambda contexts, known: cases.targets.astype(np.float32) / 255.0  # noqa: E731
  grey = lambda contexts, known: np.full((len(contexts), 32, 32, 3), pc.GREY)  # noqa: E731
  scores = pc.evaluate([image], {"oracle": oracle, "grey": grey, "exemplar": pc.exemplar})
  assert len(scores["oracle"]) == 6 and np.allclose(scores["oracle"], 1.0)
  # Blocks with context: the exemplar method continues the stripes, grey does not.
  assert np.mean(scores["grey"][1:]) + 0.5 < np.mean(scores["exemplar"][1:])
  # The classical inpainters also run in worker processes, with the same scores.
  parallel = pc.evaluate([image, image[:, ::-1]], {"biharmonic": pc.biharmonic,
                                                   "exemplar": pc.exemplar},
                         parallel=("biharmonic", "exemplar"), jobs=2)
  serial = pc.evaluate([image, image[:, ::-1]], {"biharmonic": pc.biharmonic,
                                                 "exemplar": pc.exemplar})
  assert parallel == serial and len(parallel["exemplar"]) == 12


def _run_script(*args: str) -> subprocess.CompletedProcess:
  return subprocess.run([sys.executable, str(REPO_ROOT / "scripts/evaluate_inpainting.py"), *args],
                        capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)


def test_table1_script_scores_a_network_beside_the_paper(tmp_path, kodak_dir, anchors_dir):
  from compression_eval.training import save_model  # pylint: disable=import-outside-toplevel
  from r2i_tf.config import InpainterConfig  # pylint: disable=import-outside-toplevel
  from r2i_tf.inpainting import InpaintingModel  # pylint: disable=import-outside-toplevel
  model = InpaintingModel(InpainterConfig(filters=2, layers=2))
  model.build_variables()
  save_model(model, model.config.to_json(), tmp_path / "run" / "model")
  out = tmp_path / "out"
  result = _run_script("--kodak-dir", str(kodak_dir), "--limit", "1", "--classical", "grey",
                       "--network", f"multiscale={tmp_path / 'run'}", "--out", str(out),
                       "--paper-table", str(anchors_dir / "paper_tables" /
                                            "r2i_table1_partial_context_inpainting_ssim.csv"))
  assert result.returncode == 0, result.stderr[-2000:]
  report = json.loads((out / "inpainting.json").read_text())
  assert report["blocks"] == 384 and set(report["mean_ssim"]) == {"grey", "multiscale"}
  assert len(report["block_ssim"]["multiscale"]) == 384
  row = next(line for line in result.stdout.splitlines() if "multiscale network" in line)
  assert f"| {report['mean_ssim']['multiscale']:.4f} | 0.5165 |" in row  # the paper's figure
  _one_line_error(_run_script("--kodak-dir", str(kodak_dir), "--network", "nameonly"), "NAME=RUN")
  _one_line_error(_run_script("--kodak-dir", str(kodak_dir), "--classical", "magic"), "magic")
