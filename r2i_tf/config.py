"""What defines an R2I model: the variant (how stages connect) and the widths.

Paper 2 (Baig, Koltun, Torresani, section 2) fixes the rest: 32x32 patches, 8 stages,
each coding 32 binary channels at 2x2 (128 bits, 0.125 bpp per stage). The config is
saved with every model so that a codec can rebuild it and match files to it.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Tuple

from compression_eval.config_json import JsonConfig

# residual: Toderici et al.'s residual encoder (residual in, residual out; Eq. 1).
# prediction / full / decoding: R2I (residual in, image out; Eq. 2) with the paper's
# three kinds of connections between consecutive stages.
VARIANTS = ("residual", "prediction", "full", "decoding")
PATCH_SIZE = 32
CODE_SIDE = 2  # 32x32 strided down four times by 2


@dataclasses.dataclass(frozen=True)
class R2IConfig(JsonConfig):
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



# The partial-context inpainting network (paper 2, section 2.2.1): `multiscale` is the
# paper's (8 layers of `filters` 3x3 filters at each dilation 1, 2, 4, 8), `vanilla` its
# baseline (32 plain 3x3 layers with the same parameter count).
NETWORKS = ("multiscale", "vanilla")


@dataclasses.dataclass(frozen=True)
class InpainterConfig:
  """Hyperparameters of a partial-context inpainting network.

  Attributes:
    network: one of NETWORKS.
    filters: filters per dilation in each multi-scale layer (24 in the paper); the
      vanilla network takes the width that gives it the same parameter count.
    layers: multi-scale layers (8 in the paper); the vanilla network has 4 times as many.
  """
  network: str = "multiscale"
  filters: int = 24
  layers: int = 8

  def __post_init__(self) -> None:
    if self.network not in NETWORKS:
      raise ValueError(f"network must be one of {', '.join(NETWORKS)}, not {self.network!r}")
    if self.filters < 1 or self.layers < 1:
      raise ValueError("filters and layers must be positive")

  def to_json(self) -> str:
    return json.dumps({"inpainter": dataclasses.asdict(self)}, sort_keys=True)

  @classmethod
  def from_json(cls, text: str) -> "InpainterConfig":
    return cls(**json.loads(text)["inpainter"])


def first_code_suffix(stages: int) -> str:
  """The suffix of an IR2I curve or evaluation spec coded with a first code of `stages`
  stages other than its model's (`r2i-learned-first1:`, r2i-ir2i-first1-learned)."""
  return f"-first{stages}"


@dataclasses.dataclass(frozen=True)
class IR2IConfig:
  """An R2I coder of inpainting residuals (paper 2, section 2.2.2).

  Attributes:
    coder: the progressive coder; it codes R_0 = P - inpainting, and the inpainting is
      added to every stage's output.
    inpainter: the inpainting network.
    joint: trained jointly with the coder (Eq. 4, "IR2I"); False for the separate
      baseline, where a trained inpainter is frozen and the coder learns its residuals.
    first_code_stages: stages sent as the first code; the inpainting context is their
      reconstruction (2 in the paper).
  """
  coder: R2IConfig = R2IConfig()
  inpainter: InpainterConfig = InpainterConfig()
  joint: bool = True
  first_code_stages: int = 2

  def __post_init__(self) -> None:
    if not 1 <= self.first_code_stages <= self.coder.stages:
      raise ValueError("first_code_stages must be between 1 and the coder's stages")

  @property
  def variant(self) -> str:
    return "ir2i" if self.joint else "ir2i-separate"

  @property
  def stages(self) -> int:
    return self.coder.stages

  def to_json(self) -> str:
    return json.dumps({"coder": json.loads(self.coder.to_json()),
                       "inpainter": dataclasses.asdict(self.inpainter),
                       "joint": self.joint, "first_code_stages": self.first_code_stages},
                      sort_keys=True)

  @classmethod
  def from_json(cls, text: str) -> "IR2IConfig":
    fields = json.loads(text)
    return cls(coder=R2IConfig.from_json(json.dumps(fields["coder"])),
               inpainter=InpainterConfig(**fields["inpainter"]), joint=bool(fields["joint"]),
               first_code_stages=int(fields["first_code_stages"]))


def coder_config_from_json(text: str) -> R2IConfig | IR2IConfig:
  """The config of an exported codec: R2I (and the residual encoder) or IR2I."""
  try:
    return R2IConfig.from_json(text)
  except (TypeError, KeyError):
    return IR2IConfig.from_json(text)
