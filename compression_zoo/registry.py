"""Codecs by name: the classic baselines, the families' codecs at a path, the shipped ones.

A spec is `jpeg` (and the other classic codecs), a shipped codec's name
(`deepsic-post-q2`, `r2i-decoding`: its codec exported once into the cache), or
`KIND:MODEL` for a family's codec of another kind (`deepsic:RUN/codec`, `r2i:...`,
`r2i-ec:...` for R2I's bits range-coded with the adaptive model, `r2i-learned:...` with
the model's learned bit model, `r2i-first1:...` and `r2i-learned-first1:...` for IR2I with
a first code of stage 1), where MODEL is a codec folder or a shipped name. Factories load
their codec when called, so naming the classic codecs never imports TensorFlow models.
"""
from __future__ import annotations

from typing import Callable, Dict, List

from compression_eval import baselines, catalogue
from compression_eval.codecs import Codec
from compression_eval.errors import UserError
from compression_eval.family import Family
from compression_eval.model_lookup import codec_folder, shipped_codecs
from compression_zoo.families import FAMILIES

CLASSIC: Dict[str, Callable[[], Codec]] = {"jpeg": baselines.jpeg, "jpeg2000": baselines.jpeg2000,
                                           "webp": baselines.webp, "avif": baselines.avif}
# Each kind of learned codec, and the family that reads its models.
KINDS: Dict[str, Family] = {kind: family for family in FAMILIES.values()
                            for kind in family.evaluation_codecs}


def available() -> List[str]:
  """The classic codecs, the kinds (written KIND:MODEL) and the shipped codecs."""
  shipped = [name for family in FAMILIES.values() for name in shipped_codecs(family)]
  return [*CLASSIC, *(f"{kind}:MODEL" for kind in KINDS), *shipped]


def make_codec(spec: str) -> Codec:
  """Builds the codec a spec such as `jpeg`, `deepsic-post-q2` or `r2i:RUN/codec` names."""
  name, _, argument = spec.strip().partition(":")
  if name in CLASSIC and not argument:
    return CLASSIC[name]()
  if name in KINDS and argument:
    family = KINDS[name]
    return family.evaluation_codecs[name](str(codec_folder(family, argument)))
  if name in catalogue.names() and not argument:
    owner = next((family for family in FAMILIES.values()
                  if name in shipped_codecs(family)), None)
    if owner is not None:
      codec = owner.evaluation_codecs[owner.name](str(codec_folder(owner, name)))
      codec.name = name  # a shipped codec's curve (and, for DeepSIC, its one setting)
      return codec
  if name in CLASSIC or name in KINDS:
    raise UserError(f"codec {name!r} is written {name}:MODEL" if name in KINDS else
                    f"codec {name!r} takes no argument, not {argument!r}")
  raise UserError(f"unknown codec {spec!r}; choose from {', '.join(available())}")
