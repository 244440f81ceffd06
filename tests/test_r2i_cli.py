"""`python -m r2i_tf`, scripts/train_r2i.py and the R2I Kodak evaluation as a user runs them."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from r2i_tf import bitstream
from r2i_tf.saved_codec import SavedCodec
from tests.conftest import smooth_image, write_image_folder
from tests.r2i_fixtures import TINY
from tests.test_deepsic_cli import _one_line_error, _run, printed, psnr
from tests.test_evaluate_kodak import _run_script


def test_compress_prints_every_stage_and_decompress_reads_a_cut_file(r2i_exported, tmp_path):
  Image.fromarray(smooth_image(45, 70)).convert("L").save(tmp_path / "grey.png")  # greyscale
  model = str(r2i_exported)
  compressed = _run("-m", "r2i_tf", "compress", "--model", model, str(tmp_path / "grey.png"),
                    str(tmp_path / "grey.r2i"))
  assert compressed.returncode == 0, compressed.stderr[-2000:]
  data = (tmp_path / "grey.r2i").read_bytes()
  assert f"{len(data)} bytes" in compressed.stdout
  stage_lines = [line for line in compressed.stdout.splitlines() if "stage " in line]
  assert len(stage_lines) == TINY["stages"]
  first = len(bitstream.truncate(data, 1))
  assert f"stage 1: {8 * first / (45 * 70):.4f} bpp" in stage_lines[0]

  stage_bytes = first - bitstream.header_size(1)
  cut = data[:bitstream.header_size(TINY["stages"]) + stage_bytes + 10]
  (tmp_path / "cut.r2i").write_bytes(cut)
  decompressed = _run("-m", "r2i_tf", "decompress", "--model", model, str(tmp_path / "cut.r2i"),
                      str(tmp_path / "out.png"), "--original", str(tmp_path / "grey.png"))
  assert decompressed.returncode == 0, decompressed.stderr[-2000:]
  assert f"stage 1 of {TINY['stages']}" in decompressed.stdout and "cut short" in decompressed.stdout
  decoded = np.asarray(Image.open(tmp_path / "out.png"))
  assert decoded.shape == (45, 70, 3)
  # The printed numbers, recomputed from the files: the rate of the bytes read, and the PSNR
  # of the stage-1 image against the grey original (read as RGB), which compress printed too.
  original = np.asarray(Image.open(tmp_path / "grey.png").convert("RGB"))
  assert printed(decompressed.stdout, "bpp") == pytest.approx(8 * len(cut) / (45 * 70), abs=6e-5)
  for output in (decompressed.stdout, stage_lines[0]):
    assert printed(output, "PSNR") == pytest.approx(psnr(original, decoded), abs=0.006)

  two = _run("-m", "r2i_tf", "compress", "--model", model, "--stages", "2",
             str(tmp_path / "grey.png"), str(tmp_path / "two.r2i"))
  assert two.returncode == 0 and (tmp_path / "two.r2i").read_bytes() == bitstream.truncate(data, 2)
  coded = _run("-m", "r2i_tf", "compress", "--model", model, "--entropy-coding",
               str(tmp_path / "grey.png"), str(tmp_path / "coded.r2i"))
  assert coded.returncode == 0, coded.stderr[-2000:]
  codec = SavedCodec(r2i_exported)
  np.testing.assert_array_equal(codec.decompress((tmp_path / "coded.r2i").read_bytes()).image,
                                codec.decompress(data).image)


def test_cli_errors_are_one_line(r2i_exported, r2i_foreign, tmp_path):
  model = str(r2i_exported)
  Image.fromarray(smooth_image(16, 16)).save(tmp_path / "ok.png")
  (tmp_path / "junk.r2i").write_bytes(b"R2IC\x01garbage")
  foreign = tmp_path / "foreign.r2i"
  assert _run("-m", "r2i_tf", "compress", "--model", str(r2i_foreign), str(tmp_path / "ok.png"),
              str(foreign)).returncode == 0
  cases = [
      (("decompress", str(tmp_path / "junk.r2i"), str(tmp_path / "o.png")), "not an R2I file"),
      (("decompress", str(foreign), str(tmp_path / "o.png")), "another R2I model"),
      (("compress", str(tmp_path / "ok.png"), str(tmp_path / "no" / "o.r2i")), "does not exist"),
      (("compress", "--stages", "9", str(tmp_path / "ok.png"), str(tmp_path / "o.r2i")),
       "between 1 and 3"),
      (("compress", "--first-code-stages", "2", str(tmp_path / "ok.png"),
        str(tmp_path / "o.r2i")), "only IR2I models"),
  ]
  for args, message in cases:
    _one_line_error(_run("-m", "r2i_tf", args[0], "--model", model, *args[1:]), message)
  _one_line_error(_run("-m", "r2i_tf", "decompress", "--model", str(tmp_path), str(foreign),
                       str(tmp_path / "o.png")), "no R2I codec SavedModel")
  assert not (tmp_path / "o.png").exists() and not (tmp_path / "o.r2i").exists()


def test_kodak_evaluation_gives_one_point_per_stage_and_bd_rate_vs_residual(
    tmp_path, kodak_dir, r2i_exported):
  out = tmp_path / "out"
  result = _run_script("--codecs", f"jpeg,r2i:{r2i_exported}", "--kodak-dir", str(kodak_dir),
                       "--limit", "1", "--jobs", "1", "--data-dir", str(tmp_path / "tfds"),
                       "--out", str(out), "--anchor", "jpeg", "--bpp-range", "0,2")
  assert result.returncode == 0, result.stderr[-2000:]
  curve = json.loads(next(out.glob("r2i-decoding-*.json")).read_text())
  results = curve["results"]
  assert results["setting"] == list(range(1, TINY["stages"] + 1))
  # 768x512 Kodak image: 384 blocks of 128 bits per stage, plus the header.
  pixels = 768 * 512
  for stage, bpp in enumerate(results["bpp"], start=1):
    assert abs(bpp - (8 * bitstream.header_size(stage) / pixels + 0.125 * stage)) < 1e-9
  assert "| r2i-decoding-" in (out / "kodak.md").read_text()


def test_ir2i_cli_scans_give_the_same_file_and_list_stages_from_the_first_code(
    ir2i_exported, tmp_path):
  Image.fromarray(smooth_image(50, 90, seed=2)).save(tmp_path / "photo.png")
  model = str(ir2i_exported)
  files = {}
  for scan in ("raster", "wavefront"):
    files[scan] = tmp_path / f"{scan}.r2i"
    result = _run("-m", "r2i_tf", "compress", "--model", model, "--scan", scan,
                  str(tmp_path / "photo.png"), str(files[scan]))
    assert result.returncode == 0, result.stderr[-2000:]
    stages = [line.split(":")[0].strip() for line in result.stdout.splitlines() if "stage " in line]
    assert stages == ["stage 2", "stage 3"]  # nothing stops inside the first code
  assert files["raster"].read_bytes() == files["wavefront"].read_bytes()
  decoded = _run("-m", "r2i_tf", "decompress", "--model", model, "--scan", "raster",
                 str(files["raster"]), str(tmp_path / "out.png"))
  assert decoded.returncode == 0 and "stage 3 of 3" in decoded.stdout
  _one_line_error(_run("-m", "r2i_tf", "compress", "--model", model, "--stages", "1",
                       str(tmp_path / "photo.png"), str(tmp_path / "one.r2i")), "between 2 and 3")
  assert not (tmp_path / "one.r2i").exists()
  # A one-stage first code: a stage-1 file, decoded from the header without the flag.
  result = _run("-m", "r2i_tf", "compress", "--model", model, "--first-code-stages", "1",
                "--stages", "1", str(tmp_path / "photo.png"), str(tmp_path / "one.r2i"))
  assert result.returncode == 0, result.stderr[-2000:]
  assert [line.split(":")[0].strip() for line in result.stdout.splitlines()
          if "stage " in line] == ["stage 1"]
  decoded = _run("-m", "r2i_tf", "decompress", "--model", model, str(tmp_path / "one.r2i"),
                 str(tmp_path / "one.png"))
  assert decoded.returncode == 0 and "stage 1 of 1" in decoded.stdout, decoded.stdout


def test_kodak_evaluation_of_ir2i_starts_at_the_first_code(tmp_path, kodak_dir, ir2i_exported):
  out = tmp_path / "out"
  result = _run_script("--codecs", f"r2i:{ir2i_exported}", "--kodak-dir", str(kodak_dir),
                       "--limit", "1", "--jobs", "1", "--data-dir", str(tmp_path / "tfds"),
                       "--out", str(out), "--anchor", "none", "--bpp-range", "0,2")
  assert result.returncode == 0, result.stderr[-2000:]
  results = json.loads(next(out.glob("r2i-ir2i-*.json")).read_text())["results"]
  assert results["setting"] == [2, 3]
  assert abs(results["bpp"][0] - (8 * bitstream.header_size(2) / (768 * 512) + 0.25)) < 1e-9


def test_ir2i_training_flags_are_checked_before_anything_loads(tmp_path):
  base = ["scripts/train_r2i.py", "--dataset", f"folder:{tmp_path}",
          "--output", str(tmp_path / "r")]
  _one_line_error(_run(*base, "--variant", "decoding", "--inpainting-only"), "--inpainting-only")
  _one_line_error(_run(*base, "--variant", "ir2i-separate"), "--inpainter RUN")
  _one_line_error(_run(*base, "--variant", "ir2i", "--inpainter", "x"), "--inpainter RUN")
  _one_line_error(_run(*base, "--variant", "ir2i", "--network", "vanilla"), "--inpainting-only")


def test_separate_ir2i_trains_on_a_frozen_inpainter_and_exports(tmp_path):
  folder = write_image_folder(tmp_path / "data", {"train": 3, "val": 2})
  common = ["scripts/train_r2i.py", "--dataset", f"folder:{folder}", "--steps", "2",
            "--batch-size", "2"]
  inpainter = _run(*common, "--variant", "ir2i", "--inpainting-only",
                   "--output", str(tmp_path / "inp"), timeout=600)
  assert inpainter.returncode == 0, inpainter.stderr[-3000:]
  assert "inpainting PSNR" in inpainter.stdout and not (tmp_path / "inp" / "codec").exists()
  separate = _run(*common, "--variant", "ir2i-separate", "--inpainter", str(tmp_path / "inp"),
                  "--output", str(tmp_path / "sep"), timeout=600)
  assert separate.returncode == 0, separate.stderr[-3000:]
  summary = json.loads((tmp_path / "sep" / "summary.json").read_text())
  assert summary["config"]["joint"] is False and summary["config"]["inpainter"]["filters"] == 8
  codec = SavedCodec(tmp_path / "sep" / "codec")
  assert codec.inpainting and codec.first_code_stages == 2
  # The exported inpainter is the one trained alone, untouched by the second run.
  from r2i_tf import train  # pylint: disable=import-outside-toplevel
  alone = train.load_model(tmp_path / "inp" / "model").inpainter.get_weights()
  frozen = train.load_model(tmp_path / "sep" / "model").inpainter.get_weights()
  assert all((a == b).all() for a, b in zip(alone, frozen))
