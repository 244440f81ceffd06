"""The decoders' fuzz harness, for as long as asked: the CI fuzz tests' mutations, unbounded.

  python -m tests.fuzz_decoders --minutes 20 [--output runs/fuzz/summary.json]
                                [--readers r2i-learned,ir2i-learned]

Exports tiny DeepSIC (pre and post), R2I and IR2I codecs (with tiny learned bit models)
to a temporary folder, then feeds each reader (and the image reader; or those named by
--readers) batches of hypothesis-drawn damaged inputs in turn until the time is up.
Prints how many inputs each took and how they ended (decoded or refused in one line);
any other ending stops the run with hypothesis' smallest failing input and exit status 1.
"""
from __future__ import annotations

import collections
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Counter, Dict, List

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compression_eval.errors import ArgumentParser, UserError, run_cli
from compression_eval.fileio import atomic_write_text
from deepsic_tf.codec import export as export_deepsic
from r2i_tf.bit_model import FILE_NAME
from r2i_tf.codec import export as export_r2i
from tests.deepsic_fixtures import add_context_tables, tiny_hyperprior_model, tiny_model
from tests.fuzz_cases import Target, deepsic_target, image_target, mutations, outcome, r2i_target
from tests.r2i_fixtures import tiny_bit_model, tiny_ir2i, tiny_r2i

BATCH = 200  # inputs per hypothesis run; each run draws afresh


def targets(folder: Path) -> List[Target]:
  """Every reader, on freshly exported tiny models."""
  for architecture in ("pre", "post"):
    export_deepsic(tiny_model(architecture), str(folder / architecture))
  export_deepsic(tiny_hyperprior_model(), str(folder / "hyperprior"))
  export_deepsic(tiny_model("pre"), str(folder / "context"))
  add_context_tables(folder / "context")
  export_r2i(tiny_r2i("decoding"), str(folder / "r2i"))
  export_r2i(tiny_ir2i(), str(folder / "ir2i"))
  for coder in ("r2i", "ir2i"):  # found beside the codec for "learned" files alone
    tiny_bit_model(folder / coder).save(folder / coder / FILE_NAME)
  (folder / "images").mkdir()
  return [deepsic_target(folder / "pre"), deepsic_target(folder / "post"),
          deepsic_target(folder / "hyperprior", "deepsic-hyperprior"),
          deepsic_target(folder / "context", "deepsic-context", context_coded=True),
          r2i_target(folder / "r2i", "r2i"),
          r2i_target(folder / "r2i", "r2i-entropy-coded", entropy_coded=True),
          r2i_target(folder / "r2i", "r2i-learned", entropy_coded="learned"),
          r2i_target(folder / "ir2i", "ir2i"),
          r2i_target(folder / "ir2i", "ir2i-learned", entropy_coded="learned"),
          r2i_target(folder / "ir2i", "ir2i-first1-learned", entropy_coded="learned",
                     first_code_stages=1),
          image_target(folder / "images")]


def fuzz_batch(target: Target, counts: Counter) -> None:
  """BATCH inputs for one target; raises (after shrinking) on a bad ending."""

  @settings(max_examples=BATCH, deadline=None, database=None,
            suppress_health_check=list(HealthCheck))
  @given(st.data())
  def check(data):
    counts[outcome(target, data.draw(mutations(target)))] += 1

  check()


def main(argv: List[str] | None = None) -> int:
  parser = ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--minutes", type=float, default=20.0)
  parser.add_argument("--output", help="JSON summary to write")
  parser.add_argument("--readers", help="comma-separated reader names to fuzz (default all), "
                      "e.g. r2i-learned,ir2i-learned")
  args = parser.parse_args(sys.argv[1:] if argv is None else argv)
  sys.stdout.reconfigure(line_buffering=True)
  counts: Dict[str, Counter] = collections.defaultdict(collections.Counter)
  with tempfile.TemporaryDirectory() as folder:
    readers = targets(Path(folder))
    if args.readers:
      chosen = args.readers.split(",")
      unknown = set(chosen) - {target.name for target in readers}
      if unknown:
        raise UserError(f"no reader named {', '.join(sorted(unknown))}")
      readers = [target for target in readers if target.name in chosen]
    started = time.monotonic()
    deadline = started + 60 * args.minutes
    while time.monotonic() < deadline:
      for target in readers:
        fuzz_batch(target, counts[target.name])
      total = sum(sum(count.values()) for count in counts.values())
      print(f"{(time.monotonic() - started) / 60:5.1f} min: {total} inputs, no failure")
  seconds = time.monotonic() - started
  print(f"\n{'reader':<20} {'inputs':>8} {'decoded':>8} {'refused':>8}")
  for name, count in counts.items():
    print(f"{name:<20} {sum(count.values()):>8} {count['decoded']:>8} {count['refused']:>8}")
  total = sum(sum(count.values()) for count in counts.values())
  print(f"{'all':<20} {total:>8}   in {seconds / 60:.1f} min, no failure")
  if args.output:
    summary = {"minutes": seconds / 60, "inputs": total,
               "by_reader": {name: dict(count) for name, count in counts.items()}}
    atomic_write_text(args.output, json.dumps(summary, indent=2) + "\n")
  return 0


if __name__ == "__main__":
  run_cli(main)
