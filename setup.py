"""Installs deepsic_tf, r2i_tf and compression_eval; the metadata lives in setup.cfg."""
from setuptools import setup

setup()
