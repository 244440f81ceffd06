"""Reproduces the papers' tables from the shipped models, ours beside the papers' figures.

The command is `compression_zoo.reproduce_tables` (installed as `reproduce-tables`); see its help (--help).
"""
from compression_zoo.reproduce_tables import entry_point

if __name__ == "__main__":
  entry_point()
