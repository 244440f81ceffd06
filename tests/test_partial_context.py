"""The partial-context inpainting task (paper 2, Table 1) and its classical inpainters."""
from __future__ import annotations

import numpy as np

from compression_eval import partial_context as pc
from tests.conftest import smooth_image


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
