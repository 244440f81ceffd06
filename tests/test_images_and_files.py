"""Reading odd image files as RGB, atomic writes, published curves and the one-line errors."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from compression_eval import fileio, images, published
from compression_eval.errors import UserError
from tests.conftest import REPO_ROOT


def test_greyscale_rgba_palette_and_16_bit_become_rgb8(tmp_path):
  grey = Image.fromarray(np.full((5, 7), 100, np.uint8), "L")
  rgba = Image.fromarray(np.dstack([np.full((5, 7), 200, np.uint8)] * 3 +
                                   [np.zeros((5, 7), np.uint8)]), "RGBA")
  deep = Image.fromarray(np.full((5, 7), 65535 // 2, np.uint16), "I;16")
  palette = grey.convert("P")
  for name, image in [("grey.png", grey), ("rgba.png", rgba), ("deep.png", deep),
                      ("palette.png", palette)]:
    image.save(tmp_path / name)
  assert (images.read_rgb8(tmp_path / "grey.png") == 100).all()
  assert (images.read_rgb8(tmp_path / "rgba.png") == 255).all()  # transparent over white
  assert (images.read_rgb8(tmp_path / "deep.png") == 127).all()  # scaled, not clipped
  assert images.read_rgb8(tmp_path / "palette.png").shape == (5, 7, 3)


def test_exif_rotation_is_applied(tmp_path):
  image = Image.fromarray(np.zeros((4, 10, 3), np.uint8))
  exif = Image.Exif()
  exif[0x0112] = 6  # rotate 90 degrees clockwise on display
  image.save(tmp_path / "rotated.jpg", exif=exif)
  assert images.read_rgb8(tmp_path / "rotated.jpg").shape == (10, 4, 3)


def test_unreadable_and_missing_images_are_user_errors(tmp_path):
  (tmp_path / "junk.png").write_bytes(b"\x89PNG not really")
  with pytest.raises(UserError, match="cannot read image"):
    images.read_rgb8(tmp_path / "junk.png")
  with pytest.raises(UserError, match="image not found"):
    images.read_rgb8(tmp_path / "missing.png")


def test_atomic_write_replaces_whole_file_and_leaves_no_temp(tmp_path):
  target = tmp_path / "out.bin"
  fileio.atomic_write_bytes(target, b"old")
  fileio.atomic_write_bytes(target, b"new contents")
  assert target.read_bytes() == b"new contents"
  assert os.listdir(tmp_path) == ["out.bin"]
  umask = os.umask(0)
  os.umask(umask)
  assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0o600


def test_unwritable_outputs_are_user_errors(tmp_path, monkeypatch):
  """Outputs that cannot be written fail in one line, whoever runs the test (CI runs as
  root, which file modes do not stop, so those paths go under a file or nowhere)."""
  (tmp_path / "afile").write_text("x")
  for output, message in [(tmp_path / "afile" / "out.png", "folder .*afile does not exist"),
                          (tmp_path / "missing" / "out.png", "folder .*missing does not exist")]:
    with pytest.raises(UserError, match=f"cannot write .*out.png: {message}"):
      fileio.check_writable(output)
    with pytest.raises(UserError, match=r"cannot write .*out.png: (Not a directory|No such file)"):
      fileio.atomic_write_bytes(output, b"x")
  assert sorted(os.listdir(tmp_path)) == ["afile"]  # no temporary left behind
  # A folder the user may not write to: the kernel's answer for a non-root user, simulated.
  locked = tmp_path / "locked"
  locked.mkdir(mode=0o500)
  real_access = os.access

  def access(path: str | os.PathLike, mode: int) -> bool:
    return real_access(path, mode) and Path(path).resolve() != locked.resolve()

  monkeypatch.setattr(fileio.os, "access", access)
  with pytest.raises(UserError, match="output folder .*locked is not writable"):
    fileio.ensure_dir(locked)
  with pytest.raises(UserError, match="folder .*locked is not writable"):
    fileio.check_writable(locked / "out.png")


def test_output_under_a_file_is_a_user_error(tmp_path):
  (tmp_path / "file").write_text("x")
  with pytest.raises(UserError, match="cannot create output folder"):
    fileio.ensure_dir(tmp_path / "file" / "sub")


def test_published_curves_load_in_both_layouts(anchors_dir):
  compressai = published.load_published(
      anchors_dir / "kodak_published/compressai_results/jpeg.json")
  tfc = published.load_published(
      anchors_dir / "kodak_published/tfc_results/MS-SSIM_sRGB_RGB/jpeg420.txt")
  assert compressai.name == "JPEG" and len(compressai.results["bpp"]) == 19
  assert tfc.name == "JPEG (4:2:0)" and set(tfc.results) == {"bpp", "ms-ssim-rgb"}
  assert all(0 < value < 1 for value in tfc.results["ms-ssim-rgb"])
  with pytest.raises(UserError, match="not found"):
    published.load_published(anchors_dir / "nothing.json")


_WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from compression_eval.fileio import atomic_directory, atomic_write_bytes
    target, kind = Path(sys.argv[1]), sys.argv[2]
    contents = [b"a" * 2_000_000, b"b" * 3_000_000]
    for index in range(10**9):
      content = contents[index % 2]
      if kind == "file":
        atomic_write_bytes(target, content)
      else:
        with atomic_directory(target) as staging:
          for part in range(3):
            (staging / f"part{part}").write_bytes(content)
      if index == 1:
        print("writing", flush=True)
""")


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_killed_writer_leaves_the_old_file_or_the_new_one(tmp_path, kind):
  """SIGKILL a process rewriting a file (a folder, as exports are) at random moments."""
  target = tmp_path / "out"
  complete = {b"a" * 2_000_000, b"b" * 3_000_000}
  rng = random.Random(0)
  for _ in range(8):
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(target), kind],
                              cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "writing"
    time.sleep(rng.uniform(0.0, 0.2))
    writer.kill()
    writer.wait()
    writer.stdout.close()
    if kind == "file":
      assert target.read_bytes() in complete
    else:
      parts = sorted(target.iterdir())
      assert [part.name for part in parts] == ["part0", "part1", "part2"]
      contents = {part.read_bytes() for part in parts}
      assert len(contents) == 1 and contents <= complete
