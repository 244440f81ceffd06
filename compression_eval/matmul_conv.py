"""A convolution to a few channels whose gradients are matrix products, for CPU training.

`NarrowConv2D` computes exactly Keras' stride-1 'same' `Conv2D`, with the same variables,
so weights move between the two freely. Only the backward pass differs.

TensorFlow's gradient ops for a convolution to a few output channels are slow on CPUs.
R2I's last layer (32 channels to RGB at 32x32) was a third of its training step's op
time on an AVX2 2-core machine (a trace as in benchmarks/r2i_step.py, split by layer).
One forward and backward pass of a batch of 16 took 28.7 ms on one thread; here it
takes 10.1 ms.

Both gradients are matmuls with one matrix: the output gradient's im2col patches, read
with the kernel's taps reversed (k*k*C_out columns, one row per input pixel):
- the kernel gradient is the layer's input (transposed) times those patches;
- the input gradient is those patches times the kernel.

The same im2col route for every layer of an R2I stage was measured too. It is slower than
TensorFlow's ops wherever the layer has more output channels or a stride of 2. The
strided im2col costs more than the matmul saves, so only the narrow layer uses it.
"""
from __future__ import annotations

from typing import Tuple

import tensorflow as tf


def _reversed_patches(out_grad: tf.Tensor, kernel: Tuple[int, int]) -> tf.Tensor:
  """(B*H*W, kh*kw*C_out): row (b, i, j) holds out_grad[b, i + r - a, j + s - c] for each
  tap (a, c) of a kernel with centre (r, s), zero outside the image."""
  kh, kw = kernel
  height, width = out_grad.shape[1:3]
  padded = tf.pad(out_grad, [[0, 0], [kh // 2, (kh - 1) // 2], [kw // 2, (kw - 1) // 2], [0, 0]])
  # 'SAME' pads (k - 1) // 2 before, so input pixel i meets tap a at output pixel
  # i + (k - 1) // 2 - a, which is row i + k - 1 - a of the padded gradient.
  taps = [padded[:, kh - 1 - a:kh - 1 - a + height, kw - 1 - c:kw - 1 - c + width]
          for a in range(kh) for c in range(kw)]
  return tf.reshape(tf.concat(taps, axis=-1), [-1, kh * kw * out_grad.shape[-1]])


def narrow_conv2d(inputs: tf.Tensor, kernel: tf.Tensor) -> tf.Tensor:
  """`tf.nn.conv2d(inputs, kernel, 1, "SAME")` with matmul gradients; `inputs` need a
  static height and width."""
  kh, kw, c_in, c_out = kernel.shape

  @tf.custom_gradient
  def convolve(inputs, kernel):
    def gradients(out_grad):
      patches = _reversed_patches(out_grad, (kh, kw))
      taps = tf.reshape(tf.transpose(kernel, [2, 0, 1, 3]), [c_in, kh * kw * c_out])
      input_grad = tf.reshape(tf.matmul(patches, taps, transpose_b=True), tf.shape(inputs))
      kernel_grad = tf.matmul(tf.reshape(inputs, [-1, c_in]), patches, transpose_a=True)
      return input_grad, tf.transpose(tf.reshape(kernel_grad, [c_in, kh, kw, c_out]),
                                      [1, 2, 0, 3])
    return tf.nn.conv2d(inputs, kernel, 1, "SAME"), gradients
  # A variable read inside would need its own gradient (a distributed one is read there).
  return convolve(inputs, tf.convert_to_tensor(kernel))


@tf.keras.utils.register_keras_serializable(package="compression_eval")
class NarrowConv2D(tf.keras.layers.Conv2D):
  """`tf.keras.layers.Conv2D(filters, kernel_size, padding="same")` whose gradients are
  matmuls (`narrow_conv2d`), for layers with fewer output channels than input channels.

  Inputs of unknown height or width (a codec's whole images) take Keras' own path: the
  function is the same, and only training needs the gradients.
  """

  def __init__(self, filters: int, kernel_size: int, **kwargs):
    padding = kwargs.pop("padding", "same")  # a saved config holds it
    if padding != "same" or any(kwargs.get(name, 1) not in (1, (1, 1))
                                for name in ("strides", "dilation_rate", "groups")):
      raise ValueError("NarrowConv2D is a stride-1, undilated 'same' convolution")
    super().__init__(filters, kernel_size, padding="same", **kwargs)

  def convolution_op(self, inputs, kernel):
    if inputs.shape.rank != 4 or None in inputs.shape[1:3]:
      return super().convolution_op(inputs, kernel)
    return narrow_conv2d(inputs, kernel)
