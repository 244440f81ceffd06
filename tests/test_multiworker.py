"""Multi-worker training: two worker processes on 127.0.0.1 train one model in sync.

Each trainer runs as it would on two machines (`--strategy multiworker`, TF_CONFIG, its
own output folder). The workers must form one cluster (2 replicas), take the same
steps, log the same losses (Keras aggregates metrics over all replicas, so workers that
trained apart would disagree on their different data shards), and only the chief may
write the model and export the codec.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import List

from PIL import Image

from tests.conftest import REPO_ROOT, smooth_image

# Keras' one-line-per-epoch log: "2/2 - 9s - loss: 524.8862 - bpp: 1.7164 - ..."
EPOCH_LINE = re.compile(r"^(\d+)/(\d+) - .*?loss: ([0-9.e+-]+)(.*)$", re.MULTILINE)


def _free_ports(count: int) -> List[int]:
  sockets = [socket.socket() for _ in range(count)]
  for sock in sockets:
    sock.bind(("127.0.0.1", 0))
  ports = [sock.getsockname()[1] for sock in sockets]
  for sock in sockets:
    sock.close()
  return ports


def _train_on_two_workers(script: str, args: List[str], tmp_path: Path) -> List[str]:
  """Runs the script on workers 0 (the chief) and 1; returns their outputs."""
  cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
  processes = []
  for index in range(2):
    env = {**os.environ, "TF_CONFIG": json.dumps({"cluster": cluster,
                                                   "task": {"type": "worker", "index": index}}),
           "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    processes.append(subprocess.Popen(
        [sys.executable, script, *args, "--strategy", "multiworker",
         "--output", str(tmp_path / f"worker{index}")],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
  try:
    outputs = [process.communicate(timeout=600)[0] for process in processes]
  finally:
    for process in processes:
      process.kill()
  for process, output in zip(processes, outputs):
    assert process.returncode == 0, output[-3000:]
  return outputs


def _metrics_only(tail: str) -> str:
  """An epoch line's metrics without Keras' timings ("- 81s/epoch - 40ms/step")."""
  return re.sub(r" - [0-9.]+m?s/(epoch|step)", "", tail)


def _check_in_sync(outputs: List[str], steps: int, tmp_path: Path) -> None:
  for output in outputs:
    assert "per replica on 2 replicas" in output
  epochs = [EPOCH_LINE.findall(output) for output in outputs]
  assert epochs[0] and len(epochs[0]) == len(epochs[1])
  assert sum(int(done) for done, _, _, _ in epochs[0]) == steps
  for chief, other in zip(*epochs):
    assert chief[:2] == other[:2]  # the same steps
    assert float(chief[2]) == float(other[2])  # the same loss and metrics, timings aside
    assert _metrics_only(chief[3]) == _metrics_only(other[3])
  chief, other = tmp_path / "worker0", tmp_path / "worker1"
  assert (chief / "model" / "config.json").is_file()
  assert (chief / "model" / "weights.index").is_file()
  assert (chief / "codec" / "saved_model.pb").is_file()
  assert not (other / "model").exists() and not (other / "codec").exists()


def test_deepsic_trains_on_two_workers_in_sync(tmp_path):
  outputs = _train_on_two_workers(
      "scripts/train_deepsic.py", ["--steps", "3", "--batch-size", "4", "--patch-size", "32"],
      tmp_path)
  _check_in_sync(outputs, 3, tmp_path)


def test_r2i_trains_on_two_workers_in_sync_and_its_run_folder_refuses_another_model(tmp_path):
  for split, count in (("train", 8), ("val", 2)):
    folder = tmp_path / "data" / split / "n01"
    folder.mkdir(parents=True)
    for index in range(count):
      Image.fromarray(smooth_image(48, 64, seed=index)).save(folder / f"{index}.JPEG", "JPEG")
  args = ["--dataset", f"folder:{tmp_path / 'data'}", "--steps", "2", "--batch-size", "2",
          "--variant", "prediction"]
  outputs = _train_on_two_workers("scripts/train_r2i.py", args, tmp_path)
  _check_in_sync(outputs, 2, tmp_path)
  # What the chief leaves is what a one-machine run leaves, and its folder is kept for it.
  chief = tmp_path / "worker0"
  assert "Validation" in outputs[0] and "stage 8" in outputs[0]
  summary = json.loads((chief / "summary.json").read_text())
  assert summary["config"]["variant"] == "prediction" and summary["steps"] == 2
  assert any((chief / "logs").rglob("events.out.tfevents.*"))
  refused = subprocess.run([sys.executable, "scripts/train_r2i.py", *args[:-1], "full",
                            "--output", str(chief)], cwd=REPO_ROOT, capture_output=True,
                           text=True, timeout=300, check=False)
  assert refused.returncode == 1 and "different model config" in refused.stderr
  assert len(refused.stderr.strip().splitlines()) == 1
