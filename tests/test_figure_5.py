"""DeepSIC's Fig. 5: each panel is a real file, the lowest-rate one at or above its target,
labelled with that file's measured rate and the quality of what it decodes to."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from compression_eval import plots
from compression_zoo import evaluate, figure_5, registry
from compression_zoo.figure_5 import Column, Crop
from tests.conftest import smooth_image
from tests.test_deepsic_cli import psnr

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_choose_takes_the_lowest_rate_at_or_above_the_target_else_the_highest():
  candidates = {"a": 0.2, "b": 0.26, "c": 0.25, "d": 0.6}
  assert figure_5.choose(candidates, 0.25) == "c"
  assert figure_5.choose(candidates, 0.251) == "b"
  assert figure_5.choose(candidates, 0.1) == "a"
  assert figure_5.choose(candidates, 1.0) == "d"


def test_each_panel_is_the_nearest_file_at_or_above_its_target_labelled_as_measured(
    tmp_path, exported, r2i_exported, monkeypatch):
  image = smooth_image(64, 96)
  crop = Crop(top=8, left=16, size=40)
  specs = {"pre": f"deepsic:{exported['pre']}", "post": f"deepsic:{exported['post']}",
           "r2i": f"r2i:{r2i_exported}"}
  columns = [Column("JPEG", (("jpeg", "jpeg"),)),
             Column("DeepSIC", (("pre", specs["pre"]), ("post", specs["post"]))),
             Column("R2I", (("r2i", specs["r2i"]),))]
  learned = {name: registry.make_codec(spec) for name, spec in specs.items()}
  drawn_rows, draw_crops = [], plots.plot_crops

  def plot_and_keep(rows, path, title):
    drawn_rows.extend(rows)
    draw_crops(rows, path, title)

  monkeypatch.setattr(plots, "plot_crops", plot_and_keep)
  # 0.5 bpp is beyond the tiny 3-stage R2I coder: it shows its highest-rate file.
  targets = (0.25, 0.5)
  shown = figure_5.draw({"tiny": image}, {"tiny": crop}, targets, columns, tmp_path / "files",
                        tmp_path)

  figure = (tmp_path / "fig5_tiny.png").read_bytes()
  assert figure[:8] == PNG_MAGIC and len(figure) > 5_000
  assert [(panel.target_bpp, panel.codec) for panel in shown] == [
      (target, column.label) for target in targets for column in columns]
  candidate_counts = {"JPEG": 19, "DeepSIC": 2, "R2I": 3}  # settings, models, stage counts
  pixels = 64 * 96
  assert all(row[0][0].startswith("original") and np.array_equal(row[0][1], image[8:48, 16:56])
             for row in drawn_rows)
  for panel, (label, panel_crop) in zip(shown, [cell for row in drawn_rows for cell in row[1:]]):
    path = Path(panel.file)
    size = path.stat().st_size
    assert panel.bytes == size and panel.bpp == pytest.approx(8 * size / pixels)
    name = path.stem.removeprefix("tiny-")  # jpeg-QUALITY, pre, post, r2i-STAGES
    assert len(panel.candidates) == candidate_counts[panel.codec]
    assert panel.candidates[name] == pytest.approx(panel.bpp)
    reaching = [bpp for bpp in panel.candidates.values() if bpp >= panel.target_bpp]
    assert panel.bpp == pytest.approx(min(reaching) if reaching else
                                      max(panel.candidates.values()))
    decoded = (np.asarray(Image.open(path).convert("RGB")) if panel.codec == "JPEG" else
               learned[name.split("-")[0]].decode(path.read_bytes()))
    assert panel.psnr == pytest.approx(psnr(image, decoded), abs=1e-9)
    assert label == f"{panel.codec}\n{8 * size / pixels:.3f} bpp, {panel.psnr:.2f} dB"
    np.testing.assert_array_equal(panel_crop, decoded[8:48, 16:56])
  r2i_half = next(panel for panel in shown if panel.codec == "R2I" and panel.target_bpp == 0.5)
  assert r2i_half.bpp < 0.5 and Path(r2i_half.file).name == "tiny-r2i-3.r2i"


def test_a_pools_workers_draw_the_figures_coded_here(tmp_path):
  images = {"a": smooth_image(64, 96, 1), "b": smooth_image(80, 64, 2)}
  crops = {name: Crop(top=8, left=8, size=32) for name in images}
  columns = [Column("JPEG", (("jpeg", "jpeg"),)), Column("WebP", (("webp", "webp"),))]
  here = figure_5.draw(images, crops, (0.5, 1.0), columns, tmp_path / "here", tmp_path / "here")
  with evaluate.worker_pool(2) as pool:
    there = figure_5.draw(images, crops, (0.5, 1.0), columns, tmp_path / "pool",
                          tmp_path / "pool", pool)
  key = lambda panel: (panel.image, panel.target_bpp, panel.codec, Path(panel.file).name,
                       panel.bytes, panel.psnr, panel.candidates)
  assert [key(panel) for panel in there] == [key(panel) for panel in here]
  for name in images:
    assert (tmp_path / "pool" / f"fig5_{name}.png").read_bytes()[:8] == PNG_MAGIC
