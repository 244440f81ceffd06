"""The inpainting networks: sizes, parameter counts, receptive fields and the context mask."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from r2i_tf.inpainting import (BLOCK, CONTEXT, MultiScaleConv, mask_context,
                               multiscale_inpainter, vanilla_inpainter)


def _receptive_extent(model: tf.keras.Model) -> int:
  """The span of input columns the bottom-right output pixel depends on (by gradient).

  A span, not a count: stacked dilations leave a few offsets unreachable (gridding).
  """
  context = tf.random.uniform((8, CONTEXT, CONTEXT, 3))  # several inputs: fewer dead ReLUs
  with tf.GradientTape() as tape:
    tape.watch(context)
    pixel = tf.reduce_sum(model(context)[:, -1, -1])
  influence = tf.reduce_sum(tf.abs(tape.gradient(pixel, context)), axis=[0, 1, 3]).numpy()
  columns = np.flatnonzero(influence)
  return int(columns[-1] - columns[0] + 1)


def test_multiscale_network_has_the_papers_shape_and_sees_the_whole_context():
  tf.keras.utils.set_random_seed(0)
  model = multiscale_inpainter()
  assert model.output_shape == (None, BLOCK, BLOCK, 3)
  layers = [layer for layer in model.layers if layer.name.startswith("multiscale_")]
  assert len(layers) == 8 and all(layer.filters == 24 for layer in layers)
  # 3 -> 96 channels, then 7 x (96 -> 96), each as four 3x3 branches; then a 3x3 prediction.
  expected = 4 * (9 * 3 * 24 + 24) + 7 * 4 * (9 * 96 * 24 + 24) + (9 * 96 * 3 + 3)
  assert model.count_params() == expected
  # The stack reaches 8 x 8 = 64 columns, the prediction one more; from the block's far
  # corner (column 63) every path stays inside the image down to column 2: 62 of the 64
  # columns, against 34 for the vanilla network.
  assert _receptive_extent(model) == CONTEXT - 2


def test_vanilla_network_matches_the_parameters_with_32_plain_layers_and_sees_less():
  tf.keras.utils.set_random_seed(0)
  reference = multiscale_inpainter().count_params()
  model = vanilla_inpainter(reference)
  convs = [layer for layer in model.layers if layer.name.startswith("conv_")]
  assert len(convs) == 32 and all(layer.dilation_rate == (1, 1) for layer in convs)
  assert abs(model.count_params() - reference) / reference < 0.02
  # 33 plain 3x3 layers, radius 33: the far corner (column 63) sees columns 30 to 63 only.
  assert _receptive_extent(model) == 34


@pytest.mark.parametrize("network", ["multiscale", "vanilla"])
def test_inference_computing_only_what_the_block_reads_predicts_what_training_does(network):
  tf.keras.utils.set_random_seed(0)
  model = multiscale_inpainter(filters=4)
  if network == "vanilla":
    model = vanilla_inpainter(model.count_params())
  context = mask_context(tf.random.uniform((3, CONTEXT, CONTEXT, 3), -1.0, 1.0))
  # Training runs every layer on the whole 64x64 map, inference on the cut squares.
  np.testing.assert_allclose(model(context).numpy(), model(context, training=True).numpy(),
                             atol=1e-5)
  # The cut is real: at inference the last layer computes the block and the prediction's
  # one-pixel reach, not the whole map.
  last = [layer for layer in model.layers if isinstance(layer, (MultiScaleConv,
                                                                 tf.keras.layers.Conv2D))][-2]
  assert last.output_shape[1:3] == (BLOCK + 1, BLOCK + 1)


def test_mask_zeroes_exactly_the_block_to_predict():
  context = tf.ones((2, CONTEXT, CONTEXT, 3))
  masked = mask_context(context).numpy()
  assert masked[:, BLOCK:, BLOCK:].sum() == 0
  assert masked.sum() == 2 * 3 * (CONTEXT * CONTEXT - BLOCK * BLOCK)
