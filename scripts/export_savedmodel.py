"""Exports a trained DeepSIC, R2I or IR2I model as SavedModels.

The command is `compression_zoo.export_savedmodel` (installed as `export-savedmodel`); see its help (--help).
"""
from compression_zoo.export_savedmodel import entry_point

if __name__ == "__main__":
  entry_point()
