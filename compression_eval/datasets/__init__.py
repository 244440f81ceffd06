"""Datasets for training and evaluation: Kodak, ImageNet-layout folders, tfds ImageNet.

Every loader reports a missing folder, a missing file or a download attempted offline
as a one-line `UserError` naming the path or flag to use, within seconds.
"""
from compression_eval.datasets.classification import ClassificationInfo
from compression_eval.datasets.classification import classification_dataset
from compression_eval.datasets.image_folder import IMAGENETTE_NAMES
from compression_eval.datasets.image_folder import ImageFolderSource
from compression_eval.datasets.image_folder import display_name
from compression_eval.datasets.kodak import Kodak
from compression_eval.datasets.kodak_loader import load_kodak
from compression_eval.datasets.pipelines import center_patch
from compression_eval.datasets.pipelines import classification_pipeline
from compression_eval.datasets.pipelines import decode_files
from compression_eval.datasets.pipelines import decode_image
from compression_eval.datasets.pipelines import patch_pipeline
from compression_eval.datasets.pipelines import random_patch

__all__ = [
    "ClassificationInfo",
    "IMAGENETTE_NAMES",
    "ImageFolderSource",
    "Kodak",
    "center_patch",
    "classification_dataset",
    "classification_pipeline",
    "decode_files",
    "decode_image",
    "display_name",
    "load_kodak",
    "patch_pipeline",
    "random_patch",
]
