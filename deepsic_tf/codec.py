"""The DeepSIC codec as a tf.Module: whole files in and out, exportable as a SavedModel.

`compress` pads an image to the model's stride, extracts and quantises its features,
range-codes them with the entropy model rebuilt for compression, and packs the file
(with the label for pre-semantic models). `decompress` checks and unpacks a file,
decodes the code, reconstructs and crops the image, and returns the class: read from
the file (pre) or computed by the head on the decoded features (post). `classify`
gives the class alone; for post-semantic models it runs the head on the decoded
features without reconstructing any pixels. `codes`, `decode_codes` and
`classify_codes` are the same transforms around the integer code, for the
context-adaptive coder that runs outside the graph (`deepsic_tf.context_coding`,
through `deepsic_tf.saved_codec`).
"""
from __future__ import annotations

import hashlib
import os
from typing import Tuple

import tensorflow as tf

from compression_eval.fileio import atomic_directory
from compression_eval.padding import pad_to_multiple
from deepsic_tf import bitstream, hyperprior
from deepsic_tf.exportable import Transforms
from deepsic_tf.models import DeepSIC
from deepsic_tf.tiling import Tiles


def model_id(model: DeepSIC) -> int:
  """A 32-bit hash of the config and the coding weights: files name the model that wrote them.

  Only what shapes the code counts (transforms, head, prior); metric and optimizer state
  does not, so a model reloaded from its weights keeps its id.
  """
  digest = hashlib.sha256(model.config.to_json().encode())
  coding = Transforms.of(model).weights + list(model.prior.variables) + _hyper_weights(model)
  for variable in coding:
    digest.update(str(variable.shape).encode())  # not the name: Keras numbers names per process
    digest.update(variable.numpy().tobytes())
  return int.from_bytes(digest.digest()[:4], "big")


def _hyper_weights(model: DeepSIC) -> list:
  """The hyperprior's networks' variables (none for a factorized model)."""
  if not model.hyperprior:
    return []
  return list(model.hyper_analysis.variables + model.hyper_synthesis.variables)


class CodecModule(tf.Module):
  """Compress / decompress / classify on files, for one trained `DeepSIC`."""

  def __init__(self, model: DeepSIC, tiles: Tiles = Tiles()):
    super().__init__(name="deepsic_codec")
    config = model.config
    self._config = config
    self._model_id = model_id(model)
    self._label_bytes = bitstream.label_bytes_for(config.label_bits)
    self._transforms = Transforms.of(model, tiles)
    self._weights = self._transforms.weights + _hyper_weights(model)
    self.quantizer = model.quantizer
    self.entropy_model = model.entropy_model(compression=True)
    self._hyperprior = model.hyperprior
    if self._hyperprior:
      self._hyper_analysis = model.hyper_analysis
      self._integer_synthesis = model.integer_synthesis
      self.code_model = hyperprior.code_model(compression=True)
    self._class_names = list(config.class_names) or [str(i) for i in range(config.num_classes)]

  @tf.function(input_signature=[])
  def info(self) -> dict:
    """What a client needs besides the signatures: config, model id and class names."""
    return {"config": tf.constant(self._config.to_json()),
            "model_id": tf.constant(self._model_id, tf.int64),
            "class_names": tf.constant(self._class_names)}

  def _features_and_label(self, image: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
    """f(x) of a uint8 image (padded to the stride) and the label a file stores (pre-semantic:
    the head's class of f(x); post-semantic: 0, none)."""
    shape = tf.shape(image, out_type=tf.int64)
    size_ok = tf.reduce_all([shape[0] >= 1, shape[1] >= 1, shape[0] <= bitstream.MAX_SIDE,
                             shape[1] <= bitstream.MAX_SIDE])
    with tf.control_dependencies([tf.debugging.Assert(size_ok, [
        "image sides must be between 1 and 65535 pixels"])]):
      padded = pad_to_multiple(image, self._config.total_stride, row_axis=0)
    features = self._transforms.features(padded[tf.newaxis])
    if self._config.architecture == "pre":
      return features, tf.argmax(self._transforms.head(features, training=False)[0])
    return features, tf.constant(0, tf.int64)

  @tf.function(input_signature=[tf.TensorSpec([None, None, 3], tf.uint8)])
  def compress(self, image: tf.Tensor) -> dict:
    """A uint8 RGB image (any size up to 65535 per side) to the bytes of a file."""
    features, label = self._features_and_label(image)
    shape = tf.shape(image, out_type=tf.int64)
    data = bitstream.pack(self._model_id, shape[0], shape[1], label, self._label_bytes,
                          self._compress_code(features))
    return {"file": data, "label": tf.cast(label, tf.int32)}

  @tf.function(input_signature=[tf.TensorSpec([None, None, 3], tf.uint8)])
  def codes(self, image: tf.Tensor) -> dict:
    """The integer code (rows, cols, C) the factorized file would range-code, and the label
    a file stores: for coders outside the graph (`deepsic_tf.context_coding`)."""
    features, label = self._features_and_label(image)
    lattice = tf.round(self.quantizer.to_lattice(features))[0]
    return {"codes": tf.cast(lattice, tf.int32), "label": tf.cast(label, tf.int32)}

  @tf.function(input_signature=[tf.TensorSpec([None, None, None], tf.int32),
                                tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32),
                                tf.TensorSpec([], tf.int32)])
  def decode_codes(self, codes: tf.Tensor, height: tf.Tensor, width: tf.Tensor,
                   label: tf.Tensor) -> dict:
    """Inverse of `codes`: the image of height x width and its class (pre-semantic: the
    stored `label`; post-semantic: the head's class of the code)."""
    features = self.quantizer.from_lattice(tf.cast(codes, tf.float32))[tf.newaxis]
    image = self._transforms.pixels(features)[0, :height, :width]
    return {"image": image, "label": self._code_label(features, label)}

  @tf.function(input_signature=[tf.TensorSpec([None, None, None], tf.int32),
                                tf.TensorSpec([], tf.int32)])
  def classify_codes(self, codes: tf.Tensor, label: tf.Tensor) -> dict:
    """The class of a code, as `decode_codes` gives it, without the pixels."""
    features = self.quantizer.from_lattice(tf.cast(codes, tf.float32))[tf.newaxis]
    return {"label": self._code_label(features, label)}

  def _code_label(self, features: tf.Tensor, label: tf.Tensor) -> tf.Tensor:
    if self._config.architecture == "pre":
      return label
    return tf.cast(tf.argmax(self._transforms.head(features, training=False)[0]), tf.int32)

  def _compress_code(self, features: tf.Tensor) -> tf.Tensor:
    """The payload: the range-coded code (and, first, the side code z)."""
    lattice = self.quantizer.to_lattice(features)
    if not self._hyperprior:
      return self.entropy_model.compress(lattice)[0]
    side = self._hyper_analysis(features, training=False)
    side_string = self.entropy_model.compress(side)
    indexes, means = self._integer_synthesis.code_parameters(tf.round(side),
                                                             tf.shape(lattice)[1:3])
    return bitstream.join_codes(side_string[0],
                                self.code_model.compress(lattice, indexes, means)[0])

  def _decode_features(self, parsed: bitstream.Parsed) -> tf.Tensor:
    stride = self._config.total_stride
    latent_shape = tf.cast(tf.stack([(parsed.height + stride - 1) // stride,
                                     (parsed.width + stride - 1) // stride]), tf.int32)
    if not self._hyperprior:
      lattice = self.entropy_model.decompress(parsed.payload[tf.newaxis], latent_shape)
      return self.quantizer.from_lattice(lattice)
    side_string, code_string = bitstream.split_codes(parsed.payload)
    side = self.entropy_model.decompress(side_string[tf.newaxis],
                                         hyperprior.side_shape(latent_shape))
    indexes, means = self._integer_synthesis.code_parameters(side, latent_shape)
    lattice = self.code_model.decompress(code_string[tf.newaxis], indexes, means)
    return self.quantizer.from_lattice(lattice)

  def _parse(self, data: tf.Tensor) -> bitstream.Parsed:
    return bitstream.unpack(data, self._model_id, self._label_bytes, self._config.num_classes)

  @tf.function(input_signature=[tf.TensorSpec([], tf.string)])
  def decompress(self, data: tf.Tensor) -> dict:
    """A file's bytes to (uint8 RGB image, class index)."""
    parsed = self._parse(data)
    features = self._decode_features(parsed)
    image = self._transforms.pixels(features)[0, :parsed.height, :parsed.width]
    return {"image": image, "label": self._label(parsed, features)}

  @tf.function(input_signature=[tf.TensorSpec([], tf.string)])
  def classify(self, data: tf.Tensor) -> dict:
    """A file's class; post-semantic decodes the features but reconstructs no pixels."""
    parsed = self._parse(data)
    features = None if self._config.architecture == "pre" else self._decode_features(parsed)
    return {"label": self._label(parsed, features)}

  def _label(self, parsed: bitstream.Parsed, features: tf.Tensor | None) -> tf.Tensor:
    """The file's label (pre) or the head's class for the decoded features (post)."""
    if self._config.architecture == "pre":
      return tf.cast(parsed.label, tf.int32)
    return tf.cast(tf.argmax(self._transforms.head(features, training=False)[0]), tf.int32)

  def signatures(self) -> dict:
    return {"compress": self.compress, "decompress": self.decompress,
            "classify": self.classify, "info": self.info, "codes": self.codes,
            "decode_codes": self.decode_codes, "classify_codes": self.classify_codes}


def export(model: DeepSIC, path: str | os.PathLike, tiles: Tiles = Tiles()) -> CodecModule:
  """Writes the codec SavedModel (needs tensorflow_compression's ops to load)."""
  module = CodecModule(model, tiles)
  with atomic_directory(path) as staging:
    tf.saved_model.save(module, str(staging), signatures=module.signatures())
  return module
