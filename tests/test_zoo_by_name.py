"""The shipped models by name: `models`, `--model NAME`, decompress without `--model`,
derived output names, and the evaluation on a folder of the user's own photos.

Tiny models stand in for the shipped ones (`COMPRESSION_MODELS` points the command lines
at a folder of them, `COMPRESSION_CACHE` at an empty cache), so that their first export
takes seconds; `tests/test_shipped_models.py` measures the real ones.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from compression_eval import catalogue, export_cache, model_lookup, shipped
from compression_eval.errors import UserError
from compression_eval.progress import progress
from compression_zoo import families, registry
from tests.conftest import REPO_ROOT, smooth_image
from tests.deepsic_fixtures import tiny_model
from tests.test_deepsic_cli import _one_line_error, printed


def _ship(model, folder: Path) -> Path:
  """A model written as saved_models/ holds one: config, float16 weights, a README."""
  folder.mkdir(parents=True)
  (folder / "config.json").write_text(model.config.to_json() + "\n")
  shipped.write_weights(model, folder / shipped.WEIGHTS_FILE)
  (folder / "README.md").write_text(f"# {folder.name}\n\nA tiny stand-in: for tests.\n")
  return folder


@pytest.fixture(scope="module")
def zoo_env(tmp_path_factory) -> dict:
  """Two tiny post-semantic DeepSIC models (other weights, so other ids) shipped by name."""
  root = tmp_path_factory.mktemp("zoo")
  for name, seed in (("deepsic-post-tiny", 0), ("deepsic-post-other", 1)):
    _ship(tiny_model("post", seed=seed), root / "models" / name)
  return {"COMPRESSION_MODELS": str(root / "models"), "COMPRESSION_CACHE": str(root / "cache")}


def _run(env: dict, *args: str) -> subprocess.CompletedProcess:
  return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=600,
                        cwd=REPO_ROOT, env={**os.environ, **env})


def test_models_lists_each_familys_shipped_codecs_with_their_kodak_figures():
  deepsic = _run({}, "-m", "deepsic_tf", "models")
  assert deepsic.returncode == 0, deepsic.stderr
  rows = {line.split()[0]: line.split() for line in deepsic.stdout.splitlines()[1:]}
  assert sorted(rows) == [f"deepsic-{arch}-q{q}" for arch in ("post", "pre") for q in range(1, 5)]
  figures = catalogue.kodak_figures()["deepsic-post-q2"]  # reports/results.json, 24 images
  assert rows["deepsic-post-q2"][1:3] == [f"{figures.bpp[0]:.3f}", f"{figures.psnr[0]:.2f}"]
  r2i = _run({}, "-m", "r2i_tf", "models").stdout
  assert "r2i-decoding " in r2i and "inpainter-" not in r2i and "deepsic" not in r2i
  assert "0.126-1.002" in r2i  # stage 1 to stage 8


def test_help_names_the_program_every_command_and_the_version():
  result = _run({}, "-m", "deepsic_tf", "--help")
  for command, words in (("compress", "compress an image"), ("decompress", "into a PNG"),
                         ("classify", "print the class"), ("models", "list the shipped")):
    assert command in result.stdout and words in result.stdout
  assert result.stdout.startswith("usage: python -m deepsic_tf ")
  version = _run({}, "-m", "r2i_tf", "--version")
  assert version.returncode == 0 and version.stdout.startswith("python -m r2i_tf ")


def test_a_shipped_name_compresses_and_the_file_finds_its_model(zoo_env, tmp_path):
  Image.fromarray(smooth_image(40, 56)).save(tmp_path / "photo.png")
  compressed = _run(zoo_env, "-m", "deepsic_tf", "compress", "--model", "deepsic-post-tiny",
                    str(tmp_path / "photo.png"))
  assert compressed.returncode == 0, compressed.stderr[-2000:]
  assert compressed.stdout.startswith(f"{tmp_path / 'photo.dsic'}: ")  # the derived name
  cached = Path(zoo_env["COMPRESSION_CACHE"]) / "exports" / "deepsic-post-tiny" / "codec"
  assert (cached / "saved_model.pb").is_file()
  # Beside the original, the derived name is taken: refused, and nothing written.
  _one_line_error(_run(zoo_env, "-m", "deepsic_tf", "decompress", str(tmp_path / "photo.dsic")),
                  "photo.png exists")
  (tmp_path / "sent").mkdir()
  (tmp_path / "photo.dsic").rename(tmp_path / "sent" / "photo.dsic")
  decompressed = _run(zoo_env, "-m", "deepsic_tf", "decompress",
                      str(tmp_path / "sent" / "photo.dsic"), "--original", str(tmp_path / "photo.png"))
  assert decompressed.returncode == 0, decompressed.stderr[-2000:]
  assert Image.open(tmp_path / "sent" / "photo.png").size == (56, 40)
  assert printed(decompressed.stdout, "PSNR") == printed(compressed.stdout, "PSNR")
  _one_line_error(_run(zoo_env, "-m", "deepsic_tf", "compress", "--model", "r2i-decoding",
                       str(tmp_path / "photo.png"), str(tmp_path / "x.dsic")),
                  "no model named 'r2i-decoding'")


def test_a_file_is_matched_to_the_shipped_model_that_wrote_it(zoo_env, monkeypatch):
  for name, value in zoo_env.items():
    monkeypatch.setenv(name, value)
  family = families.by_name("deepsic")
  assert model_lookup.shipped_codecs(family) == ["deepsic-post-other", "deepsic-post-tiny"]
  from deepsic_tf.saved_codec import SavedCodec  # pylint: disable=import-outside-toplevel
  other = SavedCodec(model_lookup.codec_folder(family, "deepsic-post-other"))
  data = other.compress(smooth_image(24, 24))
  assert model_lookup.codec_of_file(family, data, "x.dsic").parent.name == "deepsic-post-other"
  root, folder = model_lookup.exports(), catalogue.folder("deepsic-post-other")
  assert export_cache.known_model_id("deepsic-post-other", folder, root) == other.model_id
  with pytest.raises(UserError, match="no shipped DeepSIC model wrote x.dsic"):
    model_lookup.codec_of_file(family, data[:5] + b"\0\0\0\0" + data[9:], "x.dsic")
  with pytest.raises(UserError, match="is not a .dsic file"):
    model_lookup.codec_of_file(family, b"R2IC" + data[4:], "x.dsic")
  assert registry.make_codec("deepsic-post-other").name == "deepsic-post-other"


def test_the_export_script_dispatches_on_the_config_and_refuses_what_is_no_model(tmp_path):
  (tmp_path / "foreign").mkdir()
  (tmp_path / "foreign" / "config.json").write_text('{"something": "else"}')
  for folder, message in (("missing", "no trained model in"),
                          ("foreign", "is not the config of a DeepSIC or R2I model")):
    _one_line_error(_run({}, "scripts/export_savedmodel.py", "--model", str(tmp_path / folder),
                         "--output", str(tmp_path / "out")), message)
  assert families.of_folder(REPO_ROOT / "saved_models" / "inpainter-vanilla").name == "r2i"
  assert families.of_folder(REPO_ROOT / "saved_models" / "deepsic-reference").name == "deepsic"


def test_evaluation_on_a_folder_of_photos_of_any_size_and_mode(tmp_path):
  photos = tmp_path / "photos"
  photos.mkdir()
  Image.fromarray(smooth_image(60, 90, 1)).save(photos / "wide.png")
  Image.fromarray(smooth_image(70, 50, 2)).convert("L").save(photos / "grey.jpg")
  Image.fromarray(smooth_image(33, 41, 3)).convert("RGBA").save(photos / "alpha.png")
  (photos / "notes.txt").write_text("not an image")
  out = tmp_path / "out"
  result = _run({}, "scripts/evaluate_kodak.py", "--images", str(photos), "--codecs", "jpeg,webp",
                "--jobs", "1", "--out", str(out), "--bpp-range", "0,8")
  assert result.returncode == 0, result.stderr[-2000:]
  assert sorted(path.name for path in out.iterdir()) == sorted(
      ["jpeg.json", "webp.json", "images.md", "rd_psnr-rgb.png", "rd_ms-ssim-rgb.png",
       "rd_psnr-y.png", "rd_ms-ssim-y.png"])
  assert result.stdout.startswith("# photos rate-distortion (3 images)")
  jpeg = json.loads((out / "jpeg.json").read_text())["results"]
  assert len(jpeg["bpp"]) == 19 and jpeg["bpp"] == sorted(jpeg["bpp"])
  _one_line_error(_run({}, "scripts/evaluate_kodak.py", "--images", str(tmp_path / "out" / "x"),
                       "--codecs", "jpeg", "--out", str(tmp_path / "o")), "image folder not found")


def test_progress_speaks_only_when_a_step_is_slow():
  quick, slow = io.StringIO(), io.StringIO()
  with progress("quick step", quick, quiet_seconds=0.5):
    pass
  with progress("slow step", slow, quiet_seconds=0.01):
    time.sleep(0.2)
  assert quick.getvalue() == ""
  assert slow.getvalue().startswith("slow step ...\n") and "slow step: done after" in slow.getvalue()
