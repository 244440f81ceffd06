"""One `--dataset` string for every labelled image source the training scripts accept.

Full ILSVRC-2012 comes as tars through tfds' `imagenet2012`; Imagenette through tfds'
`imagenette` (which downloads) or, like any extracted ImageNet copy, as a plain folder.
Scripts take a spec string and get the same (image, label) dataset whichever it is.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import tensorflow as tf
import tensorflow_datasets as tfds

from compression_eval.datasets import tfds_prepare
from compression_eval.datasets.image_folder import ImageFolderSource, display_name
from compression_eval.datasets.pipelines import decode_files
from compression_eval.errors import UserError

SPEC_FORMS = "folder:PATH (ImageNet layout train|val/<wnid>/*.JPEG), imagenet2012 or imagenette"
IMAGENET_TARS = ("ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar")
# The archive the tfds `imagenette` builder downloads by default (full-size-v2 config).
IMAGENETTE_URL = "https://s3.amazonaws.com/fast-ai-imageclas/imagenette2.tgz"
_FOLDER_EXAMPLE = "folder:../shared/data/imagenette"
_FOLDER_HINT = f"use --dataset folder:PATH, e.g. {_FOLDER_EXAMPLE}"
# Split names are those of the folder layout; tfds calls the validation split differently.
_TFDS_SPLITS = {"train": "train", "val": "validation"}


@dataclasses.dataclass(frozen=True)
class ClassificationInfo:
  """What a training script needs to know about a dataset besides its elements.

  Attributes:
    num_classes: size of the label space (labels are 0 .. num_classes - 1).
    class_names: per label, the wnid (folder name or tfds class name).
    num_examples: images in the split; None where unknown without reading it all.
  """

  num_classes: int
  class_names: tuple[str, ...]
  num_examples: int | None

  @property
  def display_names(self) -> tuple[str, ...]:
    return tuple(display_name(name) for name in self.class_names)


def _folder(
    path: str, split: str, shuffle: bool, seed: int | None, encoded: bool
) -> tuple[tf.data.Dataset, ClassificationInfo]:
  source = ImageFolderSource.scan(path, split)
  dataset = decode_files(source.paths, source.labels, shuffle=shuffle, seed=seed,
                         decode=not encoded)
  return dataset, ClassificationInfo(source.num_classes, source.class_names, len(source))


def _check_imagenet_manual_dir(manual_dir: str | os.PathLike | None) -> None:
  hint = f"pass --manual-dir DIR holding {' and '.join(IMAGENET_TARS)}, or {_FOLDER_HINT}"
  if manual_dir is None:
    raise UserError(f"imagenet2012 reads the ILSVRC-2012 tars: {hint}")
  missing = [name for name in IMAGENET_TARS if not (Path(manual_dir) / name).is_file()]
  if missing:
    raise UserError(f"imagenet2012 manual dir {manual_dir} lacks {', '.join(missing)}: {hint}")


def _tfds(
    name: str,
    split: str,
    data_dir: str | os.PathLike | None,
    manual_dir: str | os.PathLike | None,
    shuffle: bool,
    seed: int | None,
    encoded: bool,
) -> tuple[tf.data.Dataset, ClassificationInfo]:
  builder = tfds_prepare.make_builder(name, data_dir)
  if name == "imagenet2012":
    if not builder.is_prepared():
      _check_imagenet_manual_dir(manual_dir)
    tfds_prepare.prepare(builder, manual_dir=manual_dir)
  else:
    tfds_prepare.prepare(
        builder, download_url=IMAGENETTE_URL, offline_hint=f"cannot download {name}; {_FOLDER_HINT}"
    )
  tfds_split = _TFDS_SPLITS.get(split, split)
  if tfds_split not in builder.info.splits:
    raise UserError(f"{name} has no split {split!r}; use one of: {', '.join(_TFDS_SPLITS)}")
  dataset = builder.as_dataset(
      split=tfds_split,
      shuffle_files=shuffle,
      as_supervised=True,
      read_config=tfds.ReadConfig(shuffle_seed=seed),
      decoders={"image": tfds.decode.SkipDecoding()} if encoded else None,
  )
  labels = builder.info.features["label"]
  info = ClassificationInfo(
      labels.num_classes, tuple(labels.names), builder.info.splits[tfds_split].num_examples
  )
  return dataset, info


def classification_dataset(
    spec: str,
    split: str,
    *,
    data_dir: str | os.PathLike | None = None,
    manual_dir: str | os.PathLike | None = None,
    shuffle: bool = False,
    seed: int | None = None,
    encoded: bool = False,
) -> tuple[tf.data.Dataset, ClassificationInfo]:
  """Resolves a `--dataset` spec to a dataset of (uint8 HxWx3 image, int64 label).

  Args:
    spec: "folder:PATH" (ImageNet layout), "imagenet2012" (tfds, from the ILSVRC-2012
      tars in `manual_dir`) or "imagenette" (tfds, downloaded).
    split: "train" or "val" (for folders, any split folder name).
    data_dir: where tfds keeps prepared datasets; None is tfds' per-user default.
    manual_dir: imagenet2012 only: folder with ILSVRC2012_img_train.tar and
      ILSVRC2012_img_val.tar (not needed once prepared in `data_dir`).
    shuffle: shuffle file order (folder: every file; tfds: shards, whose examples tfds
      already shuffled when writing them).
    seed: makes `shuffle` reproducible.
    encoded: give the image files' bytes instead of decoded images, for
      `classification_pipeline` to decode only the patches it crops.

  Raises:
    UserError: unknown spec, missing folder, tars or split, or a download while offline.
  """
  if spec.startswith("folder:"):
    path = spec[len("folder:"):]
    if not path:
      raise UserError(f"--dataset folder: needs a path, e.g. {_FOLDER_EXAMPLE}")
    return _folder(path, split, shuffle, seed, encoded)
  if spec in ("imagenet2012", "imagenette"):
    return _tfds(spec, split, data_dir, manual_dir, shuffle, seed, encoded)
  raise UserError(f"unknown dataset {spec!r}; use one of: {SPEC_FORMS}")
