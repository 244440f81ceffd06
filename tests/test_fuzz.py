"""Fuzzed decoders: every damaged file is decoded validly or refused in one line.

Bounded here (CI); `python -m tests.fuzz_decoders --minutes 20` runs the same mutations
for as long as asked.
"""
from __future__ import annotations

from typing import Dict

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, seed, settings
from hypothesis import strategies as st
from PIL import Image

from compression_eval.errors import UserError
from compression_eval.images import read_rgb8
from deepsic_tf.saved_codec import SavedCodec as DeepSICCodec
from r2i_tf.saved_codec import SavedCodec as R2ICodec
from tests.conftest import HYPOTHESIS_SEED, smooth_image
from tests.fuzz_cases import (Target, deepsic_target, image_target, mutations, outcome,
                              r2i_target)

EXAMPLES = 60


@pytest.fixture(scope="session")
def fuzz_targets(exported, hyperprior_exported, context_exported, r2i_exported, ir2i_exported,
                 r2i_learned, ir2i_learned, tmp_path_factory) -> Dict[str, Target]:
  targets = [deepsic_target(exported["pre"]), deepsic_target(exported["post"]),
             deepsic_target(hyperprior_exported, "deepsic-hyperprior"),
             deepsic_target(context_exported, "deepsic-context", context_coded=True),
             r2i_target(r2i_exported, "r2i"),
             r2i_target(r2i_exported, "r2i-entropy-coded", entropy_coded=True),
             r2i_target(r2i_learned, "r2i-learned", entropy_coded="learned"),
             r2i_target(ir2i_exported, "ir2i"),
             r2i_target(ir2i_learned, "ir2i-learned", entropy_coded="learned"),
             r2i_target(ir2i_learned, "ir2i-first1-learned", entropy_coded="learned",
                        first_code_stages=1),
             image_target(tmp_path_factory.mktemp("fuzz_images"))]
  return {target.name: target for target in targets}


@pytest.mark.parametrize("name", ["deepsic-pre", "deepsic-post", "deepsic-hyperprior",
                                  "deepsic-context", "r2i",
                                  "r2i-entropy-coded", "r2i-learned", "ir2i", "ir2i-learned",
                                  "ir2i-first1-learned", "images"])
def test_mutated_inputs_decode_or_are_refused_in_one_line(fuzz_targets, name):
  target = fuzz_targets[name]

  @seed(HYPOTHESIS_SEED)  # the same inputs every run; a failure names the seed to rerun it
  @settings(max_examples=EXAMPLES, deadline=None, database=None,
            suppress_health_check=list(HealthCheck))
  @given(st.data())
  def check(data):
    note(f"HYPOTHESIS_SEED={HYPOTHESIS_SEED}")
    outcome(target, data.draw(mutations(target)))

  check()


def test_a_thin_ir2i_file_decodes_within_the_time_of_its_blocks(fuzz_targets, ir2i_exported):
  """IR2I decodes block after block: a valid 1 x 16,385 file (513 blocks) takes about 2 s
  with the tiny models, at or past a budget by pixels alone (2.02 s); its blocks count."""
  data = R2ICodec(ir2i_exported).compress(smooth_image(1, 16385, seed=0))
  assert outcome(fuzz_targets["ir2i"], data) == "decoded"


@pytest.mark.parametrize("name", ["deepsic-pre", "deepsic-hyperprior", "deepsic-context"])
def test_every_cut_of_a_deepsic_file_is_refused(fuzz_targets, name):
  target = fuzz_targets[name]
  data = target.valid[-1]
  assert outcome(target, data) == "decoded"
  assert {outcome(target, data[:length]) for length in range(len(data))} == {"refused"}


@pytest.mark.parametrize("name", ["r2i", "r2i-entropy-coded", "r2i-learned", "ir2i",
                                  "ir2i-learned", "ir2i-first1-learned"])
def test_every_cut_of_an_r2i_file_decodes_its_complete_stages_or_is_refused(
    fuzz_targets, r2i_exported, ir2i_exported, r2i_learned, ir2i_learned, name):
  codec = R2ICodec({"r2i-learned": r2i_learned, "ir2i": ir2i_exported,
                    "ir2i-learned": ir2i_learned, "ir2i-first1-learned": ir2i_learned
                    }.get(name, r2i_exported),
                   first_code_stages=1 if "first1" in name else None)
  coding = {"r2i-entropy-coded": "adaptive", "r2i-learned": "learned",
            "ir2i-learned": "learned", "ir2i-first1-learned": "learned"}.get(name, "raw")
  data = codec.compress(smooth_image(40, 72), entropy_coded=coding)
  stages = codec.decode_stages(data)
  decoded_stages = []
  for length in range(len(data) + 1):
    try:
      decoded = codec.decompress(data[:length])
    except UserError as error:
      assert "\n" not in str(error)
      continue
    np.testing.assert_array_equal(decoded.image, stages[decoded.stages - 1])
    decoded_stages.append(decoded.stages)
  # Cuts inside stage k + 1 give stage k, for every k from the first code on.
  assert sorted(set(decoded_stages)) == list(range(codec.first_code_stages, len(stages) + 1))
  assert decoded_stages == sorted(decoded_stages)


LIMIT = "65535x65535 image, more than the 1 Mpixel limit"  # the fuzz targets' limit


@pytest.mark.parametrize("name, message", [
    ("deepsic-pre", LIMIT), ("r2i-entropy-coded", LIMIT),
    ("r2i", "a stage's size does not match the image size")])  # 128 bits a block: exact
def test_a_huge_declared_size_is_refused_before_anything_that_size_exists(
    fuzz_targets, name, message):
  target = fuzz_targets[name]
  height, width = target.fields["height"][0], target.fields["width"][0]
  base = target.valid[0]
  huge = base[:height] + b"\xff\xff" + base[height + 2:width] + b"\xff\xff" + base[width + 2:]
  with pytest.raises(UserError, match=message):
    target.read(target.reseal(huge))
  assert outcome(target, target.reseal(huge)) == "refused"


def test_unresealed_damage_never_reaches_the_deepsic_range_decoder(exported):
  """Without resealing, any change to a DeepSIC file's bytes fails its checks by name."""
  codec = DeepSICCodec(exported["post"])
  data = codec.compress(smooth_image(40, 72))
  rng = np.random.default_rng(0)
  for bit in rng.choice(8 * len(data), 40, replace=False):
    damaged = bytearray(data)
    damaged[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(UserError, match="bad magic|format version|another model|checksum"):
      codec.decompress(bytes(damaged))


def test_the_default_limit_is_256_megapixels(exported, tmp_path):
  codec = DeepSICCodec(exported["pre"])
  data = codec.compress(smooth_image(8, 8))
  with pytest.raises(UserError, match="16385x16384 image, more than the 256 Mpixel limit"):
    codec.decompress(data[:9] + (16384).to_bytes(2, "big") + (16385).to_bytes(2, "big")
                     + data[13:])
  Image.new("L", (16385, 16384)).save(tmp_path / "big.png")  # compresses to a few kB
  with pytest.raises(UserError, match="big.png declares a 16385x16384 image"):
    read_rgb8(tmp_path / "big.png")
