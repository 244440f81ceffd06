"""reproduce_tables' figures: Fig. 4 from the committed logs (or a note that they are
missing), and the tables.md section that links every figure it drew."""
from __future__ import annotations

import json

from compression_zoo import figures
from r2i_tf import stage_losses


def _write_logs(folder, steps=(10, 20, 30)) -> None:
  folder.mkdir()
  for offset, run in enumerate(figures.FIGURE_4_RUNS):
    log = stage_losses.StageLosses.empty(every=10, stages=8)
    for step in steps:
      log = log.append(step, [offset + 1.0 / step] * 8)
    (folder / f"{run}.json").write_text(log.to_json())


def _fig5_record() -> dict:
  return {"plots": ["fig5_kodim05.png"], "targets": [0.25, 0.5],
          "crops": {"kodim05": {"top": 16, "left": 384, "size": 192}}, "shown": []}


def test_figure_4_is_drawn_from_the_logs_and_linked_with_how_it_was_made(tmp_path):
  _write_logs(tmp_path / "logs")
  record = figures.draw_figure_4(tmp_path / "logs", tmp_path)
  assert (tmp_path / "fig4_training_loss.png").stat().st_size > 0
  assert record["stages"] == [1, 4, 8] and record["steps"] == {"full": 30, "decoding": 30}
  section = figures.markdown(json.loads(json.dumps({"figure_5": _fig5_record(),
                                                    "figure_4": record})))
  assert "![fig4_training_loss.png](fig4_training_loss.png)" in section
  assert "![fig5_kodim05.png](fig5_kodim05.png)" in section
  assert "kodim05's 192x192 from (x 384, y 16)" in section and "(0.25 or 0.5 bpp)" in section
  assert "full 30 steps, a value every 10" in section


def test_without_the_logs_figure_4_is_left_out_with_a_note(tmp_path):
  record = figures.draw_figure_4(tmp_path / "nowhere", tmp_path)
  assert not (tmp_path / "fig4_training_loss.png").exists()
  section = figures.markdown({"figure_5": _fig5_record(), "figure_4": record})
  assert "fig4_training_loss.png" not in section
  assert f"Not drawn: the training logs `{tmp_path / 'nowhere' / 'full.json'}`" in section
