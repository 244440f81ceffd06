"""DeepSIC's presets and the shipped models' rate points: every width and training setting.

`--preset` of the trainer (`deepsic_tf.train_cli`) picks one `Preset`, the model's
widths and its optimisation together. The shipped models (`compression_zoo.zoo`) train
at `cpu` with the rate points below, which set each one's code size, lambda1, width and
steps. Free of TensorFlow, so that listing models or checking a command line loads none.
"""
from __future__ import annotations

import dataclasses
from typing import Dict, Optional, Tuple


@dataclasses.dataclass(frozen=True)
class Preset:
  """Widths and optimisation of one `--preset`.

  The paper's optimisation is ILSVRC-2012, 128x128, batch 32, Adam 3e-3 / 5 twice.

  Attributes:
    filters, bottleneck_channels, head_filters, head_units: the model's widths
      (`DeepSICConfig`).
    patch_size, batch_size, steps, learning_rate, steps_per_epoch: the training run.
    drops: the fractions of the run at which the learning rate is divided by 5.
  """
  filters: int
  bottleneck_channels: int
  head_filters: int
  head_units: int
  patch_size: int
  batch_size: int
  steps: int
  learning_rate: float
  steps_per_epoch: int
  drops: Tuple[float, ...]

  @property
  def widths(self) -> Dict[str, int]:
    """The `DeepSICConfig` fields this preset sets."""
    return {"filters": self.filters, "bottleneck_channels": self.bottleneck_channels,
            "head_filters": self.head_filters, "head_units": self.head_units}


# Model widths: `paper` as in the paper; `cpu` and `quick` narrow enough to train on two
# cores (in an hour, and in ten minutes).
_PAPER_WIDTHS = {"filters": 128, "bottleneck_channels": 128, "head_filters": 128,
                 "head_units": 256}
_CPU_WIDTHS = {"filters": 48, "bottleneck_channels": 64, "head_filters": 64, "head_units": 128}
# The paper gives no iterations for its two drops; `paper` drops at 60 % and 85 %. The CPU
# runs are short for a codec, and a codec keeps improving at the full rate long after a
# classifier would have levelled off (docs/deepsic_ablation.md): `cpu` (an hour or more
# on 2 cores, the shipped models) and `quick` (the main job's default, about ten minutes)
# hold the full rate for 90 % of the run and drop twice in its last tenth.
PRESETS = {
    "paper": Preset(**_PAPER_WIDTHS, patch_size=128, batch_size=32, steps=8_000_000,
                    learning_rate=3e-3, steps_per_epoch=10_000, drops=(0.6, 0.85)),
    "cpu": Preset(**_CPU_WIDTHS, patch_size=64, batch_size=16, steps=60_000, learning_rate=1e-3,
                  steps_per_epoch=1000, drops=(0.9, 0.97)),
    "quick": Preset(**_CPU_WIDTHS, patch_size=64, batch_size=16, steps=8000, learning_rate=1e-3,
                    steps_per_epoch=500, drops=(0.9, 0.97)),
}


# DeepSIC's four rate points (the paper's 0.25 / 0.5 / 1.0 / 1.5 bpp), q1 to q4: one code
# size (128 channels at the stride of 16, a B-bit ceiling of 3 bpp, so that no point sits
# at its ceiling) and lambda1, which sets the rate once the transforms carry detail
# (docs/deepsic_ablation.md: 0.42, 0.89, 1.17 bpp for lambda1 0.0025, 0.01, 0.04 at 64
# channels; 0.57 bpp on Kodak for 0.015 at 128 channels after 40,000 steps). Points start
# from a trained neighbour (`--init`), as rate points of one architecture usually are: the
# transforms carry over, and the rate moves toward the new lambda1. These chains are
# post-semantic at lambda2 = 1; every shipped model, pre- and post-semantic, continues the
# one of its rate (below, `LAMBDA_SEMANTIC`). Each point's steps replace the `cpu` preset's
# 60,000 (the default of a run that names no --steps): they are what the shipped models
# trained for.
CODE_CHANNELS = 128


@dataclasses.dataclass(frozen=True)
class RatePoint:
  """One DeepSIC rate point.

  Attributes:
    quality: 1 to 4, by rising rate.
    lambda_distortion: lambda1.
    steps: --steps at the cpu preset.
    filters: the transforms' width.
    start: the point whose post-semantic model this one starts from, or None.
    warmup: (lambda1, steps) of a run from scratch that this one starts from instead.
    shipped_lambda: lambda1 of the shipped models' lambda2 = `LAMBDA_SEMANTIC` run, where
      it differs from the lambda2 = 1 chain's.
    subsampling: the point's per-stage subsampling where it is not the config's (4, 2, 2,
      1). Such a point trains from scratch at `LAMBDA_SEMANTIC` in one joint run of
      `steps` on `SCRATCH_PATCHES` (a subsampling does not carry over by `--init`), then
      relearns its prior and head; `start` and `warmup` do not apply.
  """
  quality: int
  lambda_distortion: float
  steps: int
  filters: int
  start: Optional[int] = None
  warmup: Optional[Tuple[float, int]] = None
  shipped_lambda: Optional[float] = None
  subsampling: Optional[Tuple[int, int, int, int]] = None


# The upper points are wider: at 48 filters the transforms, not the rate, limit the
# quality above about 0.6 bpp (lambda1 0.15 gave 28.61 dB at 0.763 bpp). At 96 filters the
# steps still limit it: 40,000 steps at lambda1 0.1 from scratch gave 30.81 dB at 1.606 bpp,
# and 16,000 more at 0.03 30.84 dB at 1.149 bpp. So q4 is that longer run, and q3 starts
# from it at a lower lambda1: 0.008 gave 29.85 dB at 0.777 bpp, 0.99 dB below q4, so q3
# takes 0.006 (29.45 dB at 0.710 bpp, 1.39 dB below q4 and 1.29 above q2). At lambda2 =
# 0.01 that q3 lost a fifth of its bits and sat at q2's rate, 0.95 dB above it; continued at
# 0.013 it coded Kodak at 0.723 bpp and 30.03 dB, 0.85 dB under q4, and at 0.009 at 0.641
# bpp and 29.73 dB, 1.50 dB above q2 and 1.15 under q4, so the shipped q3 takes 0.009
# (docs/deepsic_accuracy.md). q1 takes the paper's lever (section IV-A: the rate points
# differ in their subsampling): stride 32, a quarter of the code's positions, from scratch.
# Against the stride-16 q1 continued from q2 it codes Kodak in 29 % fewer bits at the same
# MS-SSIM, and the pre-semantic head, which reads f(x), loses the resolution a low rate
# should cost it (top-1 0.729 -> 0.655; docs/deepsic_accuracy.md).
RATE_POINTS = (RatePoint(1, 0.001, 50_000, 48, subsampling=(4, 2, 2, 2)),
               RatePoint(2, 0.015, 40_000, 48),
               RatePoint(3, 0.006, 8_000, 96, start=4, shipped_lambda=0.009),
               RatePoint(4, 0.03, 16_000, 96, warmup=(0.1, 40_000)))
# Every shipped model then relearns its factorized prior for 2,000 steps on whole
# 224x224 Imagenette images with its transforms and head frozen (`--entropy-model-only`;
# 4 images a batch, three times the pixels of the `cpu` batch): the patches' prior costs
# 2.6 % more on Kodak (docs/deepsic_entropy_model.md). The `cpu` flags of that last run.
PRIOR_RUN = ("--steps", "2000", "--entropy-model-only", "--patch-size", "224",
             "--batch-size", "4")
# Then its head trains alone on Table I's 224x224 crops (`--head-only`: the files keep their
# bits and pixels): the head of the joint run saw only 64x64 patches, and continued on them
# it loses accuracy, where on 224x224 crops it gains (docs/deepsic_accuracy.md).
HEAD_RUN = ("--steps", "1500", "--batch-size", "8", "--head-only", "--patch-size", "224")
# A point of its own subsampling trains from scratch on 128x128 patches, 4 a batch (the
# paper's patch and the `cpu` batch's pixels): on the `cpu` preset's 64x64 a stride-32 code
# has 2x2 positions a patch.
SCRATCH_PATCHES = ("--patch-size", "128", "--batch-size", "4")
# The shipped models then weigh L_sem by lambda2 = 0.01 instead of 1 (Eq. 4 leaves lambda2
# open): at 1, every rate's code pays bits to carry what Imagenette's 10 classes need,
# which flattens Table I (post-semantic 0.718 to 0.735 top-1 from q1 to q4) and costs rate
# (64 % more bits at q1); at 0.01 the post-semantic head, which reads the code, gains
# accuracy with rate as in the paper (0.663 to 0.744), and both architectures code Kodak
# in fewer bits (pre-semantic q1: 34 % fewer at -0.47 dB) at no loss of pre-semantic top-1
# once the heads train at their real rate (docs/deepsic_accuracy.md). Each shipped model, pre- or post-semantic, continues
# the lambda2 = 1 post-semantic chain of its rate for `LAMBDA_SEMANTIC_RUN` (joint, at a
# tenth of the preset's learning rate), then relearns the prior and the head.
LAMBDA_SEMANTIC = 0.01
LAMBDA_SEMANTIC_RUN = ("--steps", "8000", "--learning-rate", "0.0001")
# The reference classifier is the widest pre-semantic model's classifier, h(f(x)) on
# floating-point features (the paper's Fig. 2a), trained on Table I's 224x224 crops for
# classification alone: the network every pre-semantic row classifies with, freed of the
# rate and distortion terms, after the training of the longest DeepSIC chain
# (tests/test_reference_budget.py). From scratch at the `cpu` preset's 48 filters it
# reached 0.743 top-1 after 10,000 steps of 16 x 224^2 and 0.750 after 10,000 more, level
# with deepsic-pre-q4's 0.742 (96 filters): a ceiling no wider than the rows under it.
REFERENCE_START = "deepsic-pre-q4"
REFERENCE_RUN = ("--steps", "3000", "--patch-size", "224", "--learning-rate", "0.0003")
