"""scripts/evaluate_kodak.py end to end on a few Kodak images, and its error behaviour."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from deepsic_tf.saved_codec import SavedCodec
from tests.conftest import REPO_ROOT
from tests.test_deepsic_cli import psnr


def _run_script(*args: str) -> subprocess.CompletedProcess:
  return subprocess.run([sys.executable, str(REPO_ROOT / "scripts/evaluate_kodak.py"), *args],
                        capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)


def test_writes_json_plots_and_table_with_bd_rates(tmp_path, kodak_dir, anchors_dir):
  out = tmp_path / "out"
  published = anchors_dir / "kodak_published/compressai_results/jpeg.json"
  result = _run_script("--codecs", "jpeg,webp", "--kodak-dir", str(kodak_dir), "--limit", "2",
                       "--data-dir", str(tmp_path / "tfds"), "--out", str(out),
                       "--published", str(published), "--jobs", "2")
  assert result.returncode == 0, result.stderr[-2000:]
  assert sorted(p.name for p in out.iterdir()) == sorted(
      ["jpeg.json", "webp.json", "kodak.md", "rd_psnr-rgb.png", "rd_ms-ssim-rgb.png",
       "rd_psnr-y.png", "rd_ms-ssim-y.png"])
  jpeg = json.loads((out / "jpeg.json").read_text())
  assert jpeg["name"] == "jpeg" and "Pillow" in jpeg["description"]
  results = jpeg["results"]
  assert results["setting"] == list(range(5, 100, 5))
  for key in ("bpp", "psnr-rgb", "ms-ssim-rgb", "ssim-rgb", "psnr-y", "ms-ssim-y",
              "encoding_time", "decoding_time"):
    assert len(results[key]) == 19, key
  assert results["bpp"] == sorted(results["bpp"])  # quality up, rate up
  with Image.open(out / "rd_psnr-rgb.png") as plot:
    assert plot.size[0] > 400
  table = (out / "kodak.md").read_text()
  assert "Kodak rate-distortion (2 images)" in table
  bd_row = next(line for line in table.splitlines() if line.startswith("| webp |"))
  assert float(bd_row.split("|")[2]) < 0  # WebP saves bits over JPEG on MS-SSIM
  assert "jpeg vs JPEG (published" in table
  assert result.stdout.startswith("# Kodak rate-distortion")

  # The same curves brought back with --results, nothing coded: the same BD rates.
  again = _run_script("--codecs", "", "--results", str(out / "jpeg.json"), str(out / "webp.json"),
                      "--kodak-dir", str(kodak_dir), "--limit", "2",
                      "--data-dir", str(tmp_path / "tfds"), "--out", str(tmp_path / "again"))
  assert again.returncode == 0, again.stderr[-2000:]
  assert bd_row in again.stdout.splitlines()
  assert "measured earlier" in again.stdout


def test_errors_are_one_line_and_exit_1(tmp_path):
  (tmp_path / "file").write_text("x")
  (tmp_path / "published.json").write_text('{"name": "x", "results": {"bpp": [1.0]}}')
  for args, message in [
      (["--kodak-dir", str(tmp_path / "nope"), "--out", str(tmp_path / "o")], "nope"),
      (["--codecs", "jpeg,bogus", "--out", str(tmp_path / "o")], "unknown codec 'bogus'"),
      (["--out", str(tmp_path / "file" / "o")], "cannot create output folder"),
      (["--bpp-range", "1,0"], "LOW < HIGH"),
      (["--results", str(tmp_path / "published.json")], "not a result of this script"),
  ]:
    result = _run_script(*args)
    assert result.returncode != 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines


def test_deepsic_joins_the_baselines_on_plot_and_table(tmp_path, kodak_dir, exported):
  out = tmp_path / "out"
  result = _run_script("--codecs", f"jpeg,deepsic:{exported['post']}", "--kodak-dir",
                       str(kodak_dir), "--limit", "1", "--jobs", "1",
                       "--data-dir", str(tmp_path / "tfds"), "--out", str(out))
  assert result.returncode == 0, result.stderr[-2000:]
  deepsic_json = next(out.glob("deepsic-post-*.json"))
  curve = json.loads(deepsic_json.read_text())
  # One point, kodim01's: the rate of the whole file the codec writes for it and the PSNR of
  # its decoding, recomputed here (2 bytes of slack, should another process's float
  # arithmetic round one code the other way).
  original = np.asarray(Image.open(kodak_dir / "kodim01.png").convert("RGB"))
  codec = SavedCodec(exported["post"])
  data = codec.compress(original)
  pixels = original.shape[0] * original.shape[1]
  assert len(curve["results"]["bpp"]) == 1
  assert curve["results"]["bpp"][0] == pytest.approx(8 * len(data) / pixels, abs=16 / pixels)
  assert curve["results"]["psnr-rgb"][0] == pytest.approx(
      psnr(original, codec.decompress(data).image), abs=0.01)
  table = (out / "kodak.md").read_text()
  assert "| deepsic-post-" in table  # a row of the BD-rate table and its own section
