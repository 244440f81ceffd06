"""What defines an R2I model: the variant (how stages connect) and the widths.

Paper 2 (Baig, Koltun, Torresani, section 2) fixes the rest: 32x32 patches, 8 stages,
each coding 32 binary channels at 2x2 (128 bits, 0.125 bpp per stage). The config is
saved with every model so that a codec can rebuild it and match files to it.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Tuple

# residual: Toderici et al.'s residual encoder (residual in, residual out; Eq. 1).
# prediction / full / decoding: R2I (residual in, image out; Eq. 2) with the paper's
# three kinds of connections between consecutive stages.
VARIANTS = ("residual", "prediction", "full", "decoding")
PATCH_SIZE = 32
CODE_SIDE = 2  # 32x32 strided down four times by 2


@dataclasses.dataclass(frozen=True)
class R2IConfig:
  """Hyperparameters of one progressive binary coder.

  Attributes:
    variant: one of VARIANTS.
    encoder_filters: channels of the four stride-2 encoder convolutions (32 -> 2).
    decoder_filters: channels of the decoder: a 1x1 convolution on the code, then four
      stride-2 transposed convolutions (2 -> 32); a last convolution gives RGB.
    stages: number of stages (8 in the paper).
    code_channels: binary channels per stage at 2x2 (32: 128 bits per 32x32 block).
  """
  variant: str = "decoding"
  encoder_filters: Tuple[int, int, int, int] = (64, 256, 256, 512)
  decoder_filters: Tuple[int, int, int, int, int] = (512, 256, 256, 128, 64)
  stages: int = 8
  code_channels: int = 32

  def __post_init__(self) -> None:
    if self.variant not in VARIANTS:
      raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, not {self.variant!r}")
    if len(self.encoder_filters) != 4 or len(self.decoder_filters) != 5:
      raise ValueError("encoder_filters takes 4 widths and decoder_filters 5")
    if not 1 <= self.stages <= 255:
      raise ValueError("stages must be between 1 and 255")
    if self.code_channels < 1:
      raise ValueError("code_channels must be positive")
    object.__setattr__(self, "encoder_filters", tuple(int(f) for f in self.encoder_filters))
    object.__setattr__(self, "decoder_filters", tuple(int(f) for f in self.decoder_filters))

  @property
  def bits_per_block(self) -> int:
    """Bits one stage writes for one 32x32 block (128 in the paper)."""
    return CODE_SIDE * CODE_SIDE * self.code_channels

  @property
  def bpp_per_stage(self) -> float:
    return self.bits_per_block / (PATCH_SIZE * PATCH_SIZE)

  def to_json(self) -> str:
    return json.dumps(dataclasses.asdict(self), sort_keys=True)

  @classmethod
  def from_json(cls, text: str) -> "R2IConfig":
    fields = json.loads(text)
    fields["encoder_filters"] = tuple(fields["encoder_filters"])
    fields["decoder_filters"] = tuple(fields["decoder_filters"])
    return cls(**fields)


# Widths per preset. The paper defers them to its supplement; `paper` follows the
# convolutional residual encoder of Toderici et al. (2016) it starts from, `cpu` is
# narrow enough to train the four variants in minutes each on two cores.
WIDTH_PRESETS = {
    "paper": {"encoder_filters": (64, 256, 256, 512), "decoder_filters": (512, 256, 256, 128, 64)},
    "cpu": {"encoder_filters": (32, 64, 64, 128), "decoder_filters": (128, 64, 64, 32, 32)},
}
