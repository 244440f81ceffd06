"""Kill a training run at a random step (SIGKILL) and rerun the same command: it resumes.

Both trainers back up every few steps (BackupAndRestore, inside the epoch); the rerun
must start from the last backup and stop at exactly the requested step count, so no
finished work is lost and none is done twice beyond the steps since that backup.
"""
from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest
from PIL import Image

from tests.conftest import REPO_ROOT, smooth_image

STEPS, BACKUP_EVERY = 60, 5
RESUMED = re.compile(r"Resumed from the backup at step (\d+) of (\d+)")


def _image_folder(root: Path) -> str:
  for split, count in (("train", 6), ("val", 2)):
    for wnid in ("n01", "n02"):
      folder = root / split / wnid
      folder.mkdir(parents=True)
      for index in range(count):
        Image.fromarray(smooth_image(48, 64, seed=index)).save(folder / f"{index}.JPEG")
  return f"folder:{root}"


def _kill_after_first_backup(command: List[str], run: Path) -> None:
  """Starts the run, waits for its first backup, then SIGKILLs it a random moment later."""
  process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
  try:
    deadline = time.monotonic() + 300
    while not any((run / "backup").rglob("checkpoint")):
      assert process.poll() is None, "the run ended before its first backup"
      assert time.monotonic() < deadline, "no backup within 300 s"
      time.sleep(0.02)
    time.sleep(random.uniform(0.0, 1.0))
    assert process.poll() is None, "the run finished before the kill"
  finally:
    process.kill()
    process.wait()
  assert process.returncode == -9


@pytest.mark.parametrize("trainer", ["deepsic", "r2i"])
def test_a_killed_run_resumes_from_its_last_backup_to_the_same_step_count(tmp_path, trainer):
  run = tmp_path / "run"
  dataset = _image_folder(tmp_path / "data")
  common = ["--dataset", dataset, "--steps", str(STEPS), "--batch-size", "2",
            "--backup-every", str(BACKUP_EVERY), "--output", str(run)]
  command = [sys.executable, f"scripts/train_{trainer}.py", *common,
             *(["--patch-size", "32"] if trainer == "deepsic" else
               ["--variant", "ir2i", "--inpainting-only"])]  # R2I's trainer, no export to wait for
  _kill_after_first_backup(command, run)
  assert not (run / "summary.json").exists()

  rerun = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
                         check=False)
  assert rerun.returncode == 0, rerun.stderr[-3000:]
  resumed = RESUMED.search(rerun.stdout)
  assert resumed, rerun.stdout[-2000:]
  step, total = int(resumed.group(1)), int(resumed.group(2))
  assert total == STEPS and 0 < step < STEPS and step % BACKUP_EVERY == 0
  summary = json.loads((run / "summary.json").read_text())
  assert summary["steps"] == summary["steps_trained"] == STEPS
