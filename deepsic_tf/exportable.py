"""What the codec and the serving SavedModels share: the transforms, held untracked, run
tile by tile (`deepsic_tf.tiling`)."""
from __future__ import annotations

import dataclasses
from typing import List

import tensorflow as tf

from deepsic_tf.config import DeepSICConfig
from deepsic_tf.models import DeepSIC
from deepsic_tf.tiling import Tiles, analysis_margin, apply_in_tiles, synthesis_margin


@dataclasses.dataclass(frozen=True)
class Transforms:
  """f, g and h of a trained model, held outside tf.Module's automatic tracking.

  A module that tracks Keras models makes `tf.saved_model.save` trace every Keras layer
  for Keras' own metadata (about three times slower). Exports keep these in a plain
  object and track `weights` as a list of variables instead: the SavedModel then holds
  the weights and the exported signatures only.
  """
  analysis: tf.keras.Model
  synthesis: tf.keras.Model
  head: tf.keras.Model
  config: DeepSICConfig
  tiles: Tiles

  @classmethod
  def of(cls, model: DeepSIC, tiles: Tiles = Tiles()) -> "Transforms":
    tiles.check(model.config.total_stride)
    return cls(model.analysis, model.synthesis, model.head, model.config, tiles)

  @property
  def weights(self) -> List[tf.Variable]:
    return list(self.analysis.variables + self.synthesis.variables + self.head.variables)

  def features(self, padded: tf.Tensor) -> tf.Tensor:
    """f of uint8 images (N, H, W, 3) whose sides are multiples of the stride."""
    stride = self.config.total_stride
    return apply_in_tiles(
        lambda pixels: self.analysis(tf.cast(pixels, tf.float32) / 255.0, training=False),
        padded, self.tiles.analysis, analysis_margin(self.config), 1 / stride, tf.float32,
        self.config.bottleneck_channels)

  def pixels(self, features: tf.Tensor) -> tf.Tensor:
    """g of features (N, h, w, C) as uint8 images (N, h * stride, w * stride, 3)."""
    stride = self.config.total_stride

    def to_uint8(tile: tf.Tensor) -> tf.Tensor:
      pixels = self.synthesis(tile, training=False)
      return tf.cast(tf.round(tf.clip_by_value(pixels, 0.0, 1.0) * 255.0), tf.uint8)

    return apply_in_tiles(to_uint8, features, self.tiles.synthesis // stride,
                          synthesis_margin(self.config), stride, tf.uint8, 3)
