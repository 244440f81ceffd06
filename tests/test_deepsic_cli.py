"""`python -m deepsic_tf` and scripts/train_deepsic.py as a user runs them."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from compression_eval import metrics
from tests.conftest import REPO_ROOT, smooth_image


def _run(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
  return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout,
                        cwd=REPO_ROOT)


def psnr(original: np.ndarray, decoded: np.ndarray) -> float:
  """PSNR in dB of uint8 images, written out here rather than taken from the code under test."""
  error = np.mean((original.astype(np.float64) - decoded.astype(np.float64))**2)
  return 10 * np.log10(255.0**2 / error)


def printed(output: str, name: str) -> float:
  """The number a CLI printed beside `name` ("PSNR 31.20 dB", "0.1234 bpp", "MS-SSIM 0.98")."""
  number = r"(-?\d+(?:\.\d+)?)"
  found = re.findall(rf"{number} {name}\b" if name == "bpp" else rf"\b{name} {number}", output)
  assert len(found) == 1, (name, output)
  return float(found[0])


def _one_line_error(result: subprocess.CompletedProcess, message: str) -> None:
  assert result.returncode == 1, result.stderr[-2000:]
  lines = result.stderr.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines


def test_compress_decompress_classify_round_trip(exported, tmp_path):
  Image.fromarray(smooth_image(45, 70)).save(tmp_path / "photo.png")
  model = str(exported["pre"])
  compressed = _run("-m", "deepsic_tf", "compress", "--model", model, str(tmp_path / "photo.png"),
                    str(tmp_path / "photo.dsic"))
  assert compressed.returncode == 0, compressed.stderr[-2000:]
  size = (tmp_path / "photo.dsic").stat().st_size
  assert f"{size} bytes" in compressed.stdout and f"{8 * size / (45 * 70):.4f} bpp" in compressed.stdout
  decompressed = _run("-m", "deepsic_tf", "decompress", "--model", model,
                      str(tmp_path / "photo.dsic"), str(tmp_path / "out.png"),
                      "--original", str(tmp_path / "photo.png"))
  assert decompressed.returncode == 0, decompressed.stderr[-2000:]
  decoded = np.asarray(Image.open(tmp_path / "out.png"))
  assert decoded.shape == (45, 70, 3)
  # Both commands print the PSNR of the decoded image (2 decimals), decompress the rate and
  # MS-SSIM (4 decimals): recomputed here from the files written (MS-SSIM by the metric
  # module, which tests/test_metrics.py checks against TensorFlow's).
  original = np.asarray(Image.open(tmp_path / "photo.png"))
  assert printed(compressed.stdout, "PSNR") == pytest.approx(psnr(original, decoded), abs=0.006)
  assert printed(decompressed.stdout, "PSNR") == pytest.approx(psnr(original, decoded), abs=0.006)
  assert printed(decompressed.stdout, "bpp") == pytest.approx(8 * size / (45 * 70), abs=6e-5)
  assert printed(decompressed.stdout, "MS-SSIM") == pytest.approx(
      metrics.ms_ssim(original, decoded), abs=6e-5)
  classified = _run("-m", "deepsic_tf", "classify", "--model", model, str(tmp_path / "photo.dsic"))
  assert classified.returncode == 0
  class_name = compressed.stdout.split("class '")[1].split("'")[0]
  assert classified.stdout.strip().endswith(class_name)


def test_cli_errors_are_one_line(exported, tmp_path):
  model = str(exported["post"])
  (tmp_path / "junk.dsic").write_bytes(b"DSIC\x01garbage")
  (tmp_path / "text.png").write_text("not an image")
  Image.fromarray(smooth_image(16, 16)).save(tmp_path / "ok.png")
  _one_line_error(_run("-m", "deepsic_tf", "decompress", "--model", model,
                       str(tmp_path / "junk.dsic"), str(tmp_path / "o.png")), "DeepSIC file")
  _one_line_error(_run("-m", "deepsic_tf", "compress", "--model", model,
                       str(tmp_path / "text.png"), str(tmp_path / "o.dsic")), "cannot read image")
  _one_line_error(_run("-m", "deepsic_tf", "classify", "--model", str(tmp_path / "nothing"),
                       str(tmp_path / "junk.dsic")), "no DeepSIC codec SavedModel")
  _one_line_error(_run("-m", "deepsic_tf", "compress", "--model", model, str(tmp_path / "ok.png"),
                       str(tmp_path / "missing" / "o.dsic")), "does not exist")
  assert not (tmp_path / "o.png").exists() and not (tmp_path / "o.dsic").exists()


def test_train_script_trains_exports_and_refuses_a_changed_config(tmp_path):
  # A tiny ImageNet-layout folder keeps this fast; the default synthetic set is measured
  # by running the script with no arguments (see README).
  for split, count in (("train", 6), ("val", 3)):
    for wnid in ("n01", "n02"):
      folder = tmp_path / "data" / split / wnid
      folder.mkdir(parents=True)
      for index in range(count):
        Image.fromarray(smooth_image(40, 48, seed=index)).save(folder / f"{index}.JPEG", "JPEG")
  run = tmp_path / "run"
  args = ["scripts/train_deepsic.py", "--dataset", f"folder:{tmp_path / 'data'}", "--steps", "3",
          "--batch-size", "2", "--patch-size", "32", "--output", str(run),
          "--architecture", "pre"]
  result = _run(*args)
  assert result.returncode == 0, result.stderr[-3000:]
  assert "Validation" in result.stdout and "top-1" in result.stdout
  summary = json.loads((run / "summary.json").read_text())
  assert summary["config"]["num_classes"] == 2 and summary["steps"] == 3
  assert (run / "codec" / "saved_model.pb").is_file() and (run / "model" / "config.json").is_file()
  assert any((run / "logs").rglob("events.out.tfevents.*"))
  Image.fromarray(smooth_image(20, 20)).save(tmp_path / "x.png")
  compressed = _run("-m", "deepsic_tf", "compress", "--model", str(run / "codec"),
                    str(tmp_path / "x.png"), str(tmp_path / "x.dsic"))
  assert compressed.returncode == 0, compressed.stderr[-2000:]
  _one_line_error(_run(*args[:-1], "post"), "different model config")


def test_compress_context_codes_where_the_model_has_tables_and_says_so(
    context_exported, exported, tmp_path):
  Image.fromarray(smooth_image(40, 56)).save(tmp_path / "photo.png")
  written = {}
  for coding in ("default", "model"):
    flags = () if coding == "default" else ("--entropy-coding", coding)
    result = _run("-m", "deepsic_tf", "compress", "--model", str(context_exported), *flags,
                  str(tmp_path / "photo.png"), str(tmp_path / f"{coding}.dsic"))
    assert result.returncode == 0, result.stderr[-2000:]
    written[coding] = (tmp_path / f"{coding}.dsic").read_bytes()
    assert ("context-coded" if coding == "default" else "model-coded") in result.stdout
  assert written["default"][4] == 2 and written["model"][4] == 1  # the format version
  for coding in written:
    result = _run("-m", "deepsic_tf", "decompress", "--model", str(context_exported),
                  str(tmp_path / f"{coding}.dsic"), str(tmp_path / f"{coding}.png"))
    assert result.returncode == 0, result.stderr[-2000:]
  assert (tmp_path / "default.png").read_bytes() == (tmp_path / "model.png").read_bytes()
  refused = _run("-m", "deepsic_tf", "compress", "--model", str(exported["post"]),
                 "--entropy-coding", "context", str(tmp_path / "photo.png"),
                 str(tmp_path / "none.dsic"))
  _one_line_error(refused, "no context tables")
  assert not (tmp_path / "none.dsic").exists()
