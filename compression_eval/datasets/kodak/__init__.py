"""The Kodak tfds builder; importing this package registers the dataset "kodak" with tfds."""
from compression_eval.datasets.kodak.kodak_dataset_builder import KODAK_FILES
from compression_eval.datasets.kodak.kodak_dataset_builder import KODAK_URL
from compression_eval.datasets.kodak.kodak_dataset_builder import Kodak
from compression_eval.datasets.kodak.kodak_dataset_builder import missing_kodak_files

__all__ = ["KODAK_FILES", "KODAK_URL", "Kodak", "missing_kodak_files"]
