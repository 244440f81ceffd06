"""tensorflow-datasets builder for the Kodak Lossless True Color Image Suite.

Kodak's 24 photographs are the test set of both papers. tfds has no Kodak dataset, so
this builder downloads the PNGs from r0k.us, the suite's canonical host, and checks
them against `checksums.tsv` beside this file (tfds looks for it next to the module
defining the builder). Each row there also names the file, which lets tfds take
`<manual_dir>/kodimNN.png` instead of downloading it: a local copy of the suite builds
the same dataset offline.
"""
from __future__ import annotations

from pathlib import Path

import tensorflow_datasets as tfds

KODAK_URL = "http://r0k.us/graphics/kodak/kodak/"
KODAK_FILES = tuple(f"kodim{index:02d}.png" for index in range(1, 25))


def missing_kodak_files(folder: Path) -> list[str]:
  """The names from `KODAK_FILES` that `folder` lacks."""
  return [name for name in KODAK_FILES if not (folder / name).is_file()]


class Kodak(tfds.core.GeneratorBasedBuilder):
  """The 24 Kodak images as lossless PNG, in their original orientation."""

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "kodim01..kodim24 as distributed by r0k.us."}
  MANUAL_DOWNLOAD_INSTRUCTIONS = (
      "Optional: a folder holding kodim01.png ... kodim24.png; files found there are "
      "used instead of being downloaded (they must match checksums.tsv)."
  )

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
        builder=self,
        description=(
            "Kodak Lossless True Color Image Suite: 24 photographs, 18 of 768x512 "
            "and 6 of 512x768 pixels (width x height), 8-bit RGB."
        ),
        features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(None, None, 3), encoding_format="png"),
            "filename": tfds.features.Text(),
        }),
        homepage="http://r0k.us/graphics/kodak/",
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    paths = dl_manager.download({name: KODAK_URL + name for name in KODAK_FILES})
    return {"test": self._generate_examples(paths)}

  def _generate_examples(self, paths: dict[str, Path]):
    # The stored PNG bytes are the source files' bytes: nothing is re-encoded.
    for name, path in sorted(paths.items()):
      yield Path(name).stem, {"image": path, "filename": name}
