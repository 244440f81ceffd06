"""The base every other package builds on; it knows no model.

Datasets (tensorflow-datasets builders and ImageNet-layout folders), image I/O, metrics,
classic-codec baselines, rate-distortion curves and BD rates, plots, reports, file and
error helpers, and what the trainers and codec command lines share, so that DeepSIC,
R2I and the classic codecs are all judged by the same code. A model package reaches the
layers above it through the one interface of `compression_eval.family`.
"""
from compression_eval.errors import UserError

__all__ = ["UserError"]
