"""Image files and labels from a folder in ImageNet layout: ROOT/<split>/<wnid>/*.JPEG.

This is the layout of an extracted ILSVRC-2012 and of Imagenette, and the one
`tfds.folder_dataset.ImageFolder` reads. Labels follow the same rule as ImageFolder
(sorted class folders, gathered over all splits) so that a model trained on one split
and evaluated on another, or on the tfds copy, agrees on what label 3 means. Unlike
ImageFolder, nothing is built or copied: the pipelines decode the files directly.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from compression_eval.errors import UserError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
LAYOUT = "ROOT/train|val/<wnid>/*.JPEG"

# Readable names of the 10 Imagenette classes, for reports and plots.
IMAGENETTE_NAMES = {
    "n01440764": "tench",
    "n02102040": "English springer",
    "n02979186": "cassette player",
    "n03000684": "chain saw",
    "n03028079": "church",
    "n03394916": "French horn",
    "n03417042": "garbage truck",
    "n03425413": "gas pump",
    "n03445777": "golf ball",
    "n03888257": "parachute",
}


def display_name(class_name: str) -> str:
  """A readable name for a wnid where one is known, else the wnid itself."""
  return IMAGENETTE_NAMES.get(class_name, class_name)


def _subfolders(folder: Path) -> list[Path]:
  return sorted(
      entry for entry in folder.iterdir() if entry.is_dir() and not entry.name.startswith(".")
  )


def _images_in(folder: Path) -> list[str]:
  return sorted(
      os.path.join(folder, entry.name)
      for entry in os.scandir(folder)
      if entry.is_file() and entry.name.lower().endswith(IMAGE_EXTENSIONS)
  )


@dataclasses.dataclass(frozen=True)
class ImageFolderSource:
  """The images of one split of an ImageNet-layout folder, with integer labels.

  Attributes:
    root: the folder holding the split folders.
    split: the split folder's name, e.g. "train" or "val".
    paths: image files, grouped by class, sorted within a class.
    labels: index into `class_names` of each file in `paths`.
    class_names: sorted class folder names (wnids) over all splits of `root`.
  """

  root: Path
  split: str
  paths: tuple[str, ...]
  labels: tuple[int, ...]
  class_names: tuple[str, ...]

  @classmethod
  def scan(cls, root: str | os.PathLike, split: str) -> ImageFolderSource:
    """Lists `root/split/<class>/*` (.jpg/.jpeg/.png, any case), or raises `UserError`."""
    root = Path(root)
    if not root.is_dir():
      raise UserError(f"image folder not found: {root} (expected ImageNet layout {LAYOUT})")
    split_dir = root / split
    if not split_dir.is_dir():
      raise UserError(f"{root} has no {split}/ folder (expected ImageNet layout {LAYOUT})")
    class_names = sorted({folder.name for split_root in _subfolders(root)
                          for folder in _subfolders(split_root)})
    paths, labels = [], []
    for label, class_name in enumerate(class_names):
      class_dir = split_dir / class_name
      files = _images_in(class_dir) if class_dir.is_dir() else []
      paths += files
      labels += [label] * len(files)
    if not paths:
      raise UserError(
          f"no JPEG or PNG images in {split_dir}/<wnid>/ (expected ImageNet layout {LAYOUT})"
      )
    return cls(root, split, tuple(paths), tuple(labels), tuple(class_names))

  @property
  def num_classes(self) -> int:
    return len(self.class_names)

  @property
  def display_names(self) -> tuple[str, ...]:
    return tuple(display_name(name) for name in self.class_names)

  def __len__(self) -> int:
    return len(self.paths)

  def sample(self, count: int, seed: int) -> list[str]:
    """`count` distinct image paths drawn with `seed`, or a `UserError` if there are fewer."""
    if count > len(self.paths):
      raise UserError(f"{self.root}/{self.split} has {len(self.paths)} images, fewer than {count}")
    order = np.random.default_rng(seed).permutation(len(self.paths))
    return [self.paths[i] for i in order[:count]]
