"""Shared evaluation for the project's codecs.

Datasets (tensorflow-datasets builders and ImageNet-layout folders), image metrics,
classic-codec baselines, rate-distortion curves and BD rates, and plots live here so
that DeepSIC, R2I and the classic codecs are all judged by the same code.
"""
from compression_eval.errors import UserError

__all__ = ["UserError"]
