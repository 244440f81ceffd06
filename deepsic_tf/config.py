"""What defines a DeepSIC model: architecture, widths, subsampling, quantiser, loss weights.

The paper (Luo, Yang, Song, section III) fixes the structure; the widths and the
subsampling choice set the rate, and the loss weights trade rate, distortion and
classification. A config is saved with every model so that a codec can rebuild it and
so that a file can be matched to the model that wrote it.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Tuple

from compression_eval.config_json import JsonConfig

# "reference" is no codec: f and h on the uncompressed image (`deepsic_tf.reference`).
ARCHITECTURES = ("pre", "post", "reference")
# Per stage, the subsampling factors the paper allows: stage 1 by 4 or 2, stage 2 by 2 or
# 1, stages 3 and 4 by 2 or 1.
SUBSAMPLING_CHOICES = ((4, 2), (2, 1), (2, 1), (2, 1))
KERNEL_SIZES = (7, 5, 3, 3)
# Where the paper is silent on the nonlinearity, the choices the ablation measured
# (docs/deepsic_ablation.md): "gdn" (GDN in f, inverse GDN in g, after batch norm), "relu"
# (ReLU after batch norm) and "relu-before-norm" (the first design: ReLU inside the conv,
# before batch norm, on uncentred input; kept so that the ablation can rerun it).
NONLINEARITIES = ("gdn", "relu", "relu-before-norm")
# How training measures the rate R of Eq. 4 (docs/deepsic_ablation.md, group pre-rate):
# "noise", of the code plus uniform noise (Balle et al.'s proxy, the same at every step),
# or "rounded", of the rounded code with a straight-through gradient (what the file costs).
RATE_ESTIMATES = ("noise", "rounded")
# How the code is entropy-coded (docs/deepsic_entropy_model.md): "factorized", one learned
# distribution per channel (Balle et al. 2017); "hyperprior", a side code that sets every
# element's scale (Balle et al. 2018; the learned form of the paper's CABAC,
# `deepsic_tf.hyperprior`); "mean-scale", a side code that sets its mean and scale
# (Minnen et al. 2018, without the autoregressive context).
ENTROPY_MODELS = ("factorized", "hyperprior", "mean-scale")


@dataclasses.dataclass(frozen=True)
class DeepSICConfig(JsonConfig):
  """Hyperparameters of one DeepSIC model.

  Attributes:
    architecture: "pre" (classifier on the float features, in the encoder; the label is
      written into the file), "post" (classifier on the decoded quantised features) or
      "reference" (no code: Table I's classifier of uncompressed images).
    num_classes: size of the label space.
    class_names: readable name per label, stored with the model for the CLI.
    filters: channels of the feature extractor and reconstruction stages (paper: 128).
    bottleneck_channels: channels of the quantised code f(x).
    subsampling: per-stage subsampling of the feature extractor.
    bits: B of the paper's quantiser (Eq. 1), 6 in the paper.
    head_filters: channels of the semantic head's convolutions.
    head_units: width of the head's first fully connected layer.
    lambda_distortion: lambda1, weight of the MSE (on the 0-255 scale) against bpp.
    lambda_semantic: lambda2, weight of the cross-entropy (nats) against bpp.
    nonlinearity: one of NONLINEARITIES, where and which nonlinearity the stages use.
    rate_estimate: one of RATE_ESTIMATES. The pre-semantic head reads the float features,
      and the first deepsic-pre-q1 parked 70 % of its code values within 0.1 lattice steps
      of a rounding edge (post-q1: 6 %), at 0.37 bpp under the noise proxy and 0.54 bpp
      rounded. Charging the rounded code did not stop that model's drift (within the seeds'
      spread, docs/deepsic_ablation.md, group pre-rate): the restart at the full learning
      rate did it, and moves the post-semantic control too. Kept as the ablation's knob.
    entropy_model: one of ENTROPY_MODELS.
    hyper_channels: channels of the hyperprior's side code z (unused when factorized).
  """
  architecture: str = "post"
  num_classes: int = 10
  class_names: Tuple[str, ...] = ()
  filters: int = 128
  bottleneck_channels: int = 128
  subsampling: Tuple[int, int, int, int] = (4, 2, 2, 1)
  bits: int = 6
  head_filters: int = 128
  head_units: int = 256
  lambda_distortion: float = 0.01
  lambda_semantic: float = 1.0
  nonlinearity: str = "gdn"
  rate_estimate: str = "noise"
  entropy_model: str = "factorized"
  hyper_channels: int = 64

  def __post_init__(self) -> None:
    if self.architecture not in ARCHITECTURES:
      raise ValueError(f"architecture must be one of {ARCHITECTURES}, not {self.architecture!r}")
    if len(self.subsampling) != 4 or any(
        factor not in choices for factor, choices in zip(self.subsampling, SUBSAMPLING_CHOICES)):
      raise ValueError(f"subsampling {self.subsampling} is not one of the paper's choices: "
                       "stage 1 by 4 or 2, stage 2 by 2 or 1, stages 3-4 by 2 or 1")
    if self.nonlinearity not in NONLINEARITIES:
      raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, not {self.nonlinearity!r}")
    if self.rate_estimate not in RATE_ESTIMATES:
      raise ValueError(f"rate_estimate must be one of {RATE_ESTIMATES}, not {self.rate_estimate!r}")
    if self.entropy_model not in ENTROPY_MODELS:
      raise ValueError(f"entropy_model must be one of {ENTROPY_MODELS}, not {self.entropy_model!r}")
    if self.hyper_channels < 1:
      raise ValueError("hyper_channels must be at least 1")
    if self.num_classes < 2:
      raise ValueError("num_classes must be at least 2")
    if self.class_names and len(self.class_names) != self.num_classes:
      raise ValueError(f"{len(self.class_names)} class names for {self.num_classes} classes")
    if not 2 <= self.bits <= 16:
      raise ValueError("bits must be between 2 and 16")
    object.__setattr__(self, "subsampling", tuple(int(f) for f in self.subsampling))
    object.__setattr__(self, "class_names", tuple(str(n) for n in self.class_names))

  @property
  def total_stride(self) -> int:
    """How much the feature extractor shrinks each side; images are padded to a multiple."""
    return math.prod(self.subsampling)

  @property
  def label_bits(self) -> int:
    """Bits the pre-semantic file reserves for the label: ceil(log2(classes)); 0 for post."""
    return math.ceil(math.log2(self.num_classes)) if self.architecture == "pre" else 0


