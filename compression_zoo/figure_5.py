"""DeepSIC's Fig. 5: parts of images decoded from the files of several codecs at very low
rates, side by side, each labelled with its rate and quality.

The paper shows each codec "at equal or greater bit rates" than DeepSIC (section IV.B).
Here every codec (a column) competes at each target rate with all of its files: a classic
codec's every quality setting, one file per model for a learned codec trained per rate
(DeepSIC), one per stage count for a progressive coder (R2I). The file of the lowest rate
at or above the target is the one shown; the highest-rate file where none reaches it.
Each shown file is written to disk and read back before it is decoded, so its label is
that file's: its size in bits over the pixels of the whole image, and the PSNR (RGB) of
the whole image it decodes to. The codecs are the registry's (`compression_zoo.registry`),
the ones the Kodak curves measure.
"""
from __future__ import annotations

import dataclasses
import multiprocessing.pool
import re
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from compression_eval import metrics
from compression_eval.codecs import FileCodec
from compression_eval.fileio import atomic_write_bytes, ensure_dir
from compression_zoo import registry


@dataclasses.dataclass(frozen=True)
class Crop:
  """The square part of an image a figure shows: `size` pixels a side from (top, left)."""
  top: int
  left: int
  size: int

  def of(self, image: np.ndarray) -> np.ndarray:
    return image[self.top:self.top + self.size, self.left:self.left + self.size]


@dataclasses.dataclass(frozen=True)
class Column:
  """One codec of the figure: its label, and the codecs whose files compete for it, as
  (name, registry spec): one for a classic or a progressive codec, one per model for
  DeepSIC. The names name the files (`NAME-SETTING`, or `NAME` for a one-file codec)."""
  label: str
  codecs: Tuple[Tuple[str, str], ...]


@dataclasses.dataclass(frozen=True)
class Shown:
  """One panel: the file shown for a codec, an image and a target rate.

  Attributes:
    candidates: the bpp of every file of the codec for this image, by file name; the
      shown file is the one of the lowest bpp at or above `target_bpp` among them.
  """
  image: str
  target_bpp: float
  codec: str
  file: str
  bytes: int
  bpp: float
  psnr: float
  candidates: Dict[str, float]


def choose(candidates: Mapping[str, float], target: float) -> str:
  """The file of the lowest rate at or above `target`; the highest-rate one if none is."""
  reaching = [name for name, bpp in candidates.items() if bpp >= target]
  if reaching:
    return min(reaching, key=candidates.__getitem__)
  return max(candidates, key=candidates.__getitem__)


def _slug(text: str) -> str:
  return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-").lower()


def _files(column: Column, codecs: Dict[str, FileCodec], image: np.ndarray
           ) -> Dict[str, Tuple[FileCodec, bytes]]:
  """Every file of a column's codecs for `image`, by file name; `codecs` keeps the codecs
  built, by registry spec."""
  files = {}
  for name, spec in column.codecs:
    if spec not in codecs:
      codecs[spec] = registry.make_codec(spec)
    coded = codecs[spec].files(image)
    for setting, data in coded:
      files[name if len(coded) == 1 else f"{name}-{_slug(str(setting))}"] = (codecs[spec], data)
  return files


def _panel(image_name: str, image: np.ndarray, label: str, target: float,
           files: Mapping[str, Tuple[FileCodec, bytes]], files_dir: Path
           ) -> Tuple[Shown, np.ndarray]:
  """The panel of one codec (`label`, its `files`) at `target`: the chosen file is written
  to `files_dir`, read back and decoded; returns what it shows and the decoded image."""
  pixels = image.shape[0] * image.shape[1]
  candidates = {name: 8 * len(data) / pixels for name, (_, data) in files.items()}
  chosen = choose(candidates, target)
  codec, data = files[chosen]
  path = atomic_write_bytes(files_dir / f"{image_name}-{chosen}{codec.extension}", data)
  decoded = codec.decode(path.read_bytes())
  size = path.stat().st_size
  return Shown(image_name, target, label, str(path), size, 8 * size / pixels,
               metrics.psnr(image, decoded), candidates), decoded


# One image's figure: (its name, pixels, crop, the targets, the columns, the files' folder).
_ImageTask = Tuple[str, np.ndarray, Crop, Sequence[float], Sequence[Column], Path]
# What one image's figure shows: its panels, and its rows of (label, crop) cells.
_ImageRows = Tuple[List[Shown], List[List[Tuple[str, np.ndarray]]]]


def _image_rows(task: _ImageTask, codecs: Dict[str, FileCodec]) -> _ImageRows:
  """One image's panels and rows (one per target: the original's crop, then each column's)."""
  image_name, image, crop, targets, columns, files_dir = task
  files = {column.label: _files(column, codecs, image) for column in columns}
  shown, rows = [], []
  for target in targets:
    row = [(f"original\nrow: {target:g} bpp or more", crop.of(image))]
    for column in columns:
      panel, decoded = _panel(image_name, image, column.label, target, files[column.label],
                              files_dir)
      shown.append(panel)
      row.append((f"{panel.codec}\n{panel.bpp:.3f} bpp, {panel.psnr:.2f} dB", crop.of(decoded)))
    rows.append(row)
  return shown, rows


_worker_codecs: Dict[str, FileCodec] = {}


def _image_rows_in_worker(task: _ImageTask) -> _ImageRows:
  """`_image_rows` in a worker process, which keeps its codecs for its next image."""
  return _image_rows(task, _worker_codecs)


def draw(images: Mapping[str, np.ndarray], crops: Mapping[str, Crop],
         targets: Sequence[float], columns: Sequence[Column], files_dir: Path,
         out: Path, pool: Optional[multiprocessing.pool.Pool] = None) -> List[Shown]:
  """Writes <out>/fig5_<image>.png for each image of `crops` (a row per target: the
  original's crop, then each column's) and the shown files into `files_dir`; returns
  the panels it drew, row by row. With a `pool` (`compression_zoo.evaluate.worker_pool`),
  its workers code the images side by side; the figures are drawn here."""
  from compression_eval.plots import plot_crops  # pylint: disable=import-outside-toplevel
  ensure_dir(files_dir)
  tasks = [(name, images[name], crop, tuple(targets), tuple(columns), files_dir)
           for name, crop in crops.items()]
  codecs: Dict[str, FileCodec] = {}
  coded = (pool.imap(_image_rows_in_worker, tasks) if pool is not None else
           (_image_rows(task, codecs) for task in tasks))
  shown: List[Shown] = []
  for (image_name, _, crop, *_), (panels, rows) in zip(tasks, coded):
    shown += panels
    plot_crops(rows, out / f"fig5_{image_name}.png",
               title=f"{image_name}, {crop.size}x{crop.size} from (x {crop.left}, y "
               f"{crop.top}): each codec's file of the lowest rate at or above the row's")
  return shown
