"""NarrowConv2D is Keras' Conv2D, gradients included (compression_eval.matmul_conv)."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from compression_eval.matmul_conv import NarrowConv2D


def _pair(filters, kernel, channels):
  """A Keras Conv2D and a NarrowConv2D with the same random weights (bias included)."""
  keras, narrow = tf.keras.layers.Conv2D(filters, kernel, padding="same"), NarrowConv2D(filters, kernel)
  for layer in (keras, narrow):
    layer.build((None, None, None, channels))
  narrow.set_weights([w + 0.1 * np.random.default_rng(0).normal(size=w.shape)
                      for w in keras.get_weights()])
  keras.set_weights(narrow.get_weights())
  return keras, narrow


def _output_and_gradients(layer, inputs):
  with tf.GradientTape() as tape:
    tape.watch(inputs)
    outputs = layer(inputs)
    loss = tf.reduce_sum(tf.sin(3.0 * outputs))  # not linear, so every gradient differs
  return [outputs] + tape.gradient(loss, [inputs] + layer.trainable_variables)


@pytest.mark.parametrize("filters, kernel, shape", [
    (3, 3, (2, 32, 32, 32)), (3, 4, (2, 9, 7, 8)), (2, 2, (1, 5, 6, 4)), (1, (3, 5), (2, 8, 9, 6)),
    (5, 1, (2, 4, 4, 7)), (8, 3, (1, 6, 6, 4))])
def test_output_and_gradients_are_keras_conv2ds(filters, kernel, shape):
  keras, narrow = _pair(filters, kernel, shape[-1])
  inputs = tf.random.stateless_normal(shape, seed=(1, 2))
  for expected, got in zip(_output_and_gradients(keras, inputs),
                           _output_and_gradients(narrow, inputs)):
    scale = np.abs(expected.numpy()).max()
    assert scale > 0.01  # a gradient that vanished would agree trivially
    np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=1e-5 * scale)


def test_the_gradients_are_matmuls_not_tensorflows_convolution_gradients():
  _, narrow = _pair(3, 3, 16)
  step = tf.function(lambda inputs: _output_and_gradients(narrow, inputs))
  graph = step.get_concrete_function(tf.TensorSpec((2, 8, 8, 16))).graph
  types = {op.type for op in graph.get_operations()}
  assert "MatMul" in types
  assert not types & {"Conv2DBackpropFilter", "Conv2DBackpropInput"}


def test_inputs_of_unknown_size_take_keras_path_with_the_same_output():
  keras, narrow = _pair(3, 3, 8)
  inputs = tf.random.stateless_normal((1, 11, 13, 8), seed=(3, 4))
  unknown = tf.function(narrow, input_signature=[tf.TensorSpec((None, None, None, 8))])
  np.testing.assert_allclose(unknown(inputs).numpy(), keras(inputs).numpy(), atol=1e-5)


def test_a_saved_config_rebuilds_the_layer_and_other_convolutions_are_refused():
  layer = NarrowConv2D(3, 3, name="to_rgb")
  rebuilt = tf.keras.layers.deserialize(tf.keras.layers.serialize(layer))
  assert isinstance(rebuilt, NarrowConv2D)
  assert (rebuilt.filters, rebuilt.kernel_size, rebuilt.padding) == (3, (3, 3), "same")
  for bad in ({"strides": 2}, {"padding": "valid"}, {"dilation_rate": 2}):
    with pytest.raises(ValueError, match="stride-1, undilated 'same'"):
      NarrowConv2D(3, 3, **bad)
