"""Installs compression_eval, deepsic_tf, r2i_tf and compression_zoo; the metadata lives in setup.cfg."""
from setuptools import setup

setup()
