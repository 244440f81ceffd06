"""Kill a training run (SIGKILL) just after a backup it wrote and rerun the same command: it
resumes.

Both trainers back up every few steps (BackupAndRestore, inside the epoch); the rerun
must start from the last backup and stop at exactly the requested step count, so no
finished work is lost and none is done twice beyond the steps since that backup.
"""
from __future__ import annotations

import json
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
KILL_AT_BACKUP = 2  # step 10 of 60: the kill comes 50 steps before the end, not by chance
RESUMED = re.compile(r"Resumed from the backup at step (\d+) of (\d+)")
# BackupAndRestore's CheckpointManager numbers its saves ckpt-1, ckpt-2, ... and names the
# latest in this file, which it replaces atomically.
LATEST_BACKUP = re.compile(r'^model_checkpoint_path: "ckpt-(\d+)"', re.MULTILINE)


def _image_folder(root: Path) -> str:
  for split, count in (("train", 6), ("val", 2)):
    for wnid in ("n01", "n02"):
      folder = root / split / wnid
      folder.mkdir(parents=True)
      for index in range(count):
        Image.fromarray(smooth_image(48, 64, seed=index)).save(folder / f"{index}.JPEG")
  return f"folder:{root}"


def _backups(run: Path) -> int:
  """How many backups the run has written so far."""
  try:
    found = LATEST_BACKUP.search((run / "backup" / "chief" / "checkpoint").read_text())
  except FileNotFoundError:
    return 0
  return int(found.group(1)) if found else 0


def _kill_at_backup(command: List[str], run: Path, backup: int) -> None:
  """Starts the run and SIGKILLs it as soon as it has written its `backup`-th backup."""
  process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
  try:
    deadline = time.monotonic() + 300
    while _backups(run) < backup:
      assert process.poll() is None, f"the run ended before its backup {backup}"
      assert time.monotonic() < deadline, f"no backup {backup} within 300 s"
      time.sleep(0.01)
  finally:
    process.kill()
    process.wait()
  assert process.returncode == -9, "the run finished before the kill"


@pytest.mark.parametrize("trainer", ["deepsic", "r2i"])
def test_a_killed_run_resumes_from_its_last_backup_to_the_same_step_count(tmp_path, trainer):
  run = tmp_path / "run"
  dataset = _image_folder(tmp_path / "data")
  common = ["--dataset", dataset, "--steps", str(STEPS), "--batch-size", "2",
            "--backup-every", str(BACKUP_EVERY), "--output", str(run)]
  command = [sys.executable, f"scripts/train_{trainer}.py", *common,
             *(["--patch-size", "32"] if trainer == "deepsic" else
               ["--variant", "ir2i", "--inpainting-only"])]  # R2I's trainer, no export to wait for
  _kill_at_backup(command, run, KILL_AT_BACKUP)
  assert not (run / "summary.json").exists()
  killed_at = _backups(run)  # the kill may land just after the next backup
  assert killed_at in (KILL_AT_BACKUP, KILL_AT_BACKUP + 1)

  rerun = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
                         check=False)
  assert rerun.returncode == 0, rerun.stderr[-3000:]
  resumed = RESUMED.search(rerun.stdout)
  assert resumed, rerun.stdout[-2000:]
  step, total = int(resumed.group(1)), int(resumed.group(2))
  assert (step, total) == (killed_at * BACKUP_EVERY, STEPS)  # the last backup, not an earlier one
  summary = json.loads((run / "summary.json").read_text())
  assert summary["steps"] == summary["steps_trained"] == STEPS
