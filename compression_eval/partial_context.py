"""Partial-context inpainting, the task of paper 2's Table 1, and its classical baselines.

Every non-overlapping 32x32 block of an image is predicted from the 64x64 region whose
bottom-right quarter it is: only the blocks above, to the left and above-left are known,
as when decoding in raster order. Blocks on the top row or left column lack part of that
context. The score is the SSIM of each predicted block, averaged over all blocks.

The classical baselines see only the part of the context inside the image:
- `biharmonic`: PDE-based, scikit-image's biharmonic inpainting (the smooth continuation
  of the known pixels; the paper cites Bertalmio et al.'s PDE method);
- `exemplar`: Criminisi, Perez and Toyama (2004): fill the hole patch by patch, each
  time at the front pixel of highest priority (confidence times the strength of the
  isophote flowing into the hole) by copying the best-matching known patch.
A block with no known context at all is predicted mid-grey by both.
"""
from __future__ import annotations

import dataclasses
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Dict, Iterable, List

import numpy as np
from scipy import ndimage

from compression_eval import metrics

CONTEXT = 64
BLOCK = 32
GREY = 0.5

# An inpainter takes contexts (N, 64, 64, 3) in [0, 1] whose unknown pixels are zero and
# the known mask (N, 64, 64), and returns the blocks (N, 32, 32, 3) in [0, 1].
Inpainter = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclasses.dataclass(frozen=True)
class Cases:
  """The partial-context problems of one image, one per 32x32 block in raster order."""
  contexts: np.ndarray  # (N, 64, 64, 3) float32 in [0, 1]; unknown pixels are zero
  known: np.ndarray  # (N, 64, 64) bool: inside the image and not the block
  targets: np.ndarray  # (N, 32, 32, 3) uint8: the blocks


def image_cases(image: np.ndarray) -> Cases:
  """Every whole 32x32 block of a uint8 RGB image (partial blocks at the far edges skipped)."""
  rows, cols = image.shape[0] // BLOCK, image.shape[1] // BLOCK
  padded = np.zeros((BLOCK + rows * BLOCK, BLOCK + cols * BLOCK, 3), np.float32)
  padded[BLOCK:, BLOCK:] = image[:rows * BLOCK, :cols * BLOCK] / 255.0
  inside = np.zeros(padded.shape[:2], bool)
  inside[BLOCK:, BLOCK:] = True
  contexts, known = [], []
  for row in range(rows):
    for col in range(cols):
      window = np.s_[row * BLOCK:row * BLOCK + CONTEXT, col * BLOCK:col * BLOCK + CONTEXT]
      mask = inside[window].copy()
      mask[BLOCK:, BLOCK:] = False
      contexts.append(padded[window] * mask[..., np.newaxis])
      known.append(mask)
  blocks = image[:rows * BLOCK, :cols * BLOCK].reshape(rows, BLOCK, cols, BLOCK, 3)
  targets = blocks.transpose(0, 2, 1, 3, 4).reshape(-1, BLOCK, BLOCK, 3)
  return Cases(np.stack(contexts), np.stack(known), targets)


def _inside_window(known: np.ndarray) -> tuple:
  """The smallest window of the context that is inside the image (holds the block)."""
  top = BLOCK if not known[:BLOCK].any() else 0
  left = BLOCK if not known[:, :BLOCK].any() else 0
  return np.s_[top:, left:]


class _PerBlock:
  """An inpainter from `fill(image, unknown)`, run on each context's in-image window.

  A class rather than a closure so that it pickles (by reference to `fill`) into the
  worker processes of `evaluate`.
  """

  def __init__(self, fill: Callable[[np.ndarray, np.ndarray], np.ndarray]):
    self.fill = fill

  def __call__(self, contexts: np.ndarray, known: np.ndarray) -> np.ndarray:
    blocks = np.full((len(contexts), BLOCK, BLOCK, 3), GREY, np.float32)
    for i, (context, mask) in enumerate(zip(contexts, known)):
      if mask.any():
        window = _inside_window(mask)
        blocks[i] = self.fill(context[window], ~mask[window])[-BLOCK:, -BLOCK:]
    return blocks


def _biharmonic(image: np.ndarray, unknown: np.ndarray) -> np.ndarray:
  from skimage.restoration import inpaint_biharmonic  # pylint: disable=import-outside-toplevel
  return np.clip(inpaint_biharmonic(image, unknown, channel_axis=-1), 0.0, 1.0)


PATCH = 9  # Criminisi et al. use 9x9 patches


def criminisi_fill(image: np.ndarray, unknown: np.ndarray, patch: int = PATCH) -> np.ndarray:
  """Exemplar-based inpainting (Criminisi et al. 2004) of `unknown` pixels of (H, W, 3).

  Sources are the patches lying wholly in the known region; known pixels never change.
  """
  half = patch // 2
  height, width = unknown.shape
  pad = ((half, half), (half, half))
  filled = np.pad(np.where(unknown[..., np.newaxis], 0.0, image).astype(np.float32),
                  pad + ((0, 0),))
  hole = np.pad(unknown, pad)  # pixels still to fill
  valid = np.pad(np.ones_like(unknown), pad)  # inside the image
  confidence = (valid & ~hole).astype(np.float64)
  sources = _source_patches(filled, valid & ~hole, patch)
  if len(sources) == 0:  # no whole known patch: fall back to the known mean
    known_pixels = image[~unknown]
    mean = known_pixels.mean(axis=0) if len(known_pixels) else np.full(3, GREY)
    return np.where(unknown[..., np.newaxis], mean, image)
  flat = sources.reshape(len(sources), -1).astype(np.float32)
  squares = flat * flat
  while hole.any():
    y, x = _highest_priority(filled, hole, valid, confidence, patch)
    window = np.s_[y - half:y + half + 1, x - half:x + half + 1]
    target, usable = filled[window], (valid & ~hole)[window]
    # Sum of squared differences over the usable pixels, as two matrix-vector products.
    weight = np.repeat(usable.ravel(), 3).astype(np.float32)
    cost = squares @ weight - 2.0 * (flat @ (weight * target.ravel()))
    best = sources[int(np.argmin(cost))]
    fill_here = hole[window] & valid[window]
    filled[window][fill_here] = best[fill_here]
    confidence[window][fill_here] = confidence[window][usable].sum() / patch**2
    hole[window] &= ~fill_here
  return filled[half:half + height, half:half + width]


def _source_patches(image: np.ndarray, known: np.ndarray, patch: int) -> np.ndarray:
  """All patches (M, patch, patch, 3) whose pixels are all known."""
  windows = np.lib.stride_tricks.sliding_window_view(image, (patch, patch), axis=(0, 1))
  whole = np.lib.stride_tricks.sliding_window_view(known, (patch, patch)).all(axis=(2, 3))
  return windows[whole].transpose(0, 2, 3, 1)


def _highest_priority(image: np.ndarray, hole: np.ndarray, valid: np.ndarray,
                      confidence: np.ndarray, patch: int) -> tuple:
  """The fill-front pixel maximising confidence x data term (Criminisi et al., Eq. 1)."""
  known = valid & ~hole
  front = hole & ndimage.binary_dilation(known, np.ones((3, 3), bool))
  if not front.any():  # the hole touches no known pixel (cannot happen inside one window)
    front = hole
  def box(values: np.ndarray) -> np.ndarray:  # mean over each pixel's patch
    return ndimage.uniform_filter(values, patch, mode="constant")

  conf = box(confidence)
  grey = image.mean(axis=-1)
  gy, gx = np.gradient(grey)
  reliable = ndimage.binary_erosion(known, np.ones((3, 3), bool))  # no hole in the stencil
  # The isophote (the gradient rotated by 90 degrees) at a front pixel: the mean reliable
  # gradient in its patch; the data term is its component along the front's normal.
  count = box(reliable.astype(np.float64)) + 1e-8
  mean_gy = box(gy * reliable) / count
  mean_gx = box(gx * reliable) / count
  ny, nx = np.gradient(ndimage.uniform_filter(known.astype(np.float64), 3))
  norm = np.hypot(nx, ny) + 1e-8
  data = np.abs(-mean_gy * nx / norm + mean_gx * ny / norm) + 1e-3  # never zero
  priority = np.where(front, conf * data, -1.0)
  y, x = np.unravel_index(int(np.argmax(priority)), priority.shape)
  return int(y), int(x)


biharmonic = _PerBlock(_biharmonic)
exemplar = _PerBlock(criminisi_fill)


def grey(contexts: np.ndarray, known: np.ndarray) -> np.ndarray:
  """The floor: every block mid-grey, whatever its context."""
  return np.full((len(contexts), BLOCK, BLOCK, 3), GREY, np.float32)


CLASSICAL: Dict[str, Inpainter] = {"grey": grey, "biharmonic": biharmonic, "exemplar": exemplar}
DESCRIPTIONS = {"grey": "mid-grey (no inpainting)", "biharmonic": "PDE-based (biharmonic)",
                "exemplar": "exemplar-based (Criminisi et al.)"}
# The numpy inpainters worth running on several processes.
PARALLEL = ("biharmonic", "exemplar")
# Our rows and the paper's (the `approach` column of its Table 1 CSV); networks by kind.
PAPER_ROWS = {"biharmonic": "pde_based_bertalmio2000", "exemplar": "exemplar_based_criminisi2004",
              "vanilla": "vanilla_network_32layer_no_dilation",
              "multiscale": "multiscale_inpainting_network"}


def block_ssims(predicted: np.ndarray, targets: np.ndarray) -> np.ndarray:
  """SSIM of each predicted block (in [0, 1]) against its uint8 target."""
  pixels = np.round(np.clip(predicted, 0.0, 1.0) * 255.0).astype(np.uint8)
  return np.array([metrics.ssim(target, block) for target, block in zip(targets, pixels)])


def _score(args) -> np.ndarray:
  inpainter, cases = args
  return block_ssims(inpainter(cases.contexts, cases.known), cases.targets)


def sample_cases(cases: Cases, fraction: float, seed: int = 0) -> Cases:
  """A seeded random `fraction` of an image's blocks, kept in raster order.

  Random rather than every k-th block: a stride would favour some columns, and blocks
  on the left edge, which lack half their context, are harder than the others.
  """
  count = len(cases.targets)
  keep = np.sort(np.random.default_rng(seed).choice(count, max(1, round(fraction * count)),
                                                    replace=False))
  return Cases(cases.contexts[keep], cases.known[keep], cases.targets[keep])


def evaluate(images: Iterable[np.ndarray], inpainters: Dict[str, Inpainter],
             parallel: Iterable[str] = (), jobs: int = 1,
             fraction: float = 1.0) -> Dict[str, List[float]]:
  """Every block's SSIM per inpainter, over all images (blocks in image, raster order).

  Inpainters named in `parallel` (plain numpy, picklable) run on `jobs` processes,
  spawned: the caller may hold TensorFlow's threads, which a fork would copy mid-flight.
  A `fraction` below 1 scores the same seeded sample of each image's blocks for every
  inpainter (`sample_cases`).
  """
  all_cases = [image_cases(image) for image in images]
  if fraction < 1.0:
    all_cases = [sample_cases(cases, fraction, seed) for seed, cases in enumerate(all_cases)]
  scores: Dict[str, List[float]] = {}
  for name, inpainter in inpainters.items():
    work = [(inpainter, cases) for cases in all_cases]
    if name in parallel and jobs > 1:
      with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_score, work))
    else:
      results = [_score(item) for item in work]
    scores[name] = [float(v) for result in results for v in result]
  return scores
