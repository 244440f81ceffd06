"""A trained semantic head made wider with its function kept.

h of Fig. 4 (two convolutions, global pooling, two fully connected layers) trained at one
width is continued at a wider one (the paper's 128 filters and 256 units from the `cpu`
preset's narrower head): each layer keeps the trained units in its leading slice, and the
weights from a new unit into a trained one are zero, so the widened head gives the trained
head's logits at its first step and its new units (freshly initialised inputs) learn from
there. A fresh head of the paper's widths needs the tens of thousands of steps the shipped
heads had jointly (docs/deepsic_accuracy.md: 0.395 top-1 after 3,000 head steps, against
0.740-0.749 for the widened one).
"""
from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np


def widened_head_weights(trained: Sequence[np.ndarray],
                         fresh: Sequence[np.ndarray]) -> Optional[List[np.ndarray]]:
  """The weights of a wider head that computes what `trained` computes.

  `trained` and `fresh` are `get_weights()` of two heads of one architecture (kernel,
  bias per layer), `fresh` the wider one as built. A kernel (..., inputs, outputs) takes the
  trained kernel in [..., :inputs, :outputs] and zeros in [..., new inputs, :outputs]; a
  bias takes the trained bias in [:outputs] and zeros after. Returns None where any
  dimension of `fresh` is narrower than `trained`'s (no function-keeping narrowing) or
  the classes differ (the logits' bias): a head for other classes starts fresh.
  """
  if len(trained) != len(fresh) or trained[-1].shape != fresh[-1].shape or any(
      old.ndim != new.ndim or any(o > n for o, n in zip(old.shape, new.shape))
      for old, new in zip(trained, fresh)):
    return None
  widened = []
  for old, new in zip(trained, fresh):
    weights = np.array(new, copy=True)
    if old.ndim == 1:
      weights[old.shape[0]:] = 0
    else:
      weights[..., old.shape[-2]:, :old.shape[-1]] = 0
    weights[tuple(slice(0, size) for size in old.shape)] = old
    widened.append(weights)
  return widened
