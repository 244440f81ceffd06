"""DeepSIC as Keras functional models, and the model that trains them jointly.

f (feature extractor), g (reconstruction) and h (semantic head) are functional models
on images of any size. `DeepSIC` ties them to the B-bit quantiser and a
tensorflow-compression entropy model and minimises the paper's Eq. 4,
L = R + lambda1 * D + lambda2 * L_sem, with R in bits per pixel (Eqs. 5-6), D the MSE
on the 0-255 scale and L_sem the cross-entropy of the head.
"""
from __future__ import annotations

from typing import Dict, Tuple

import tensorflow as tf
import tensorflow_compression as tfc

from compression_eval.training import replica_share
from deepsic_tf import hyperprior
from deepsic_tf.config import KERNEL_SIZES, DeepSICConfig
from deepsic_tf.layers import FeatureStage, ReconstructionStage
from deepsic_tf.quantizer import BBitQuantizer


def _centred(config: DeepSICConfig) -> bool:
  """Whether f takes x - 1/2, g returns its output + 1/2 and g's interpolation path
  starts at zero (all but the first design)."""
  return config.nonlinearity != "relu-before-norm"


def feature_extractor(config: DeepSICConfig) -> tf.keras.Model:
  """f: four feature stages, the last with `bottleneck_channels`, then tanh.

  Eq. 1 quantises to B bits, which presumes features in [-1, 1); the paper does not say
  how they are kept there. The sum of two batch-normalised terms leaves about half of
  them outside, where clipping would cut both information and gradients, so the code
  ends in a tanh. Images enter centred (x - 1/2), so that the first stage's
  nonlinearity sees signed input.
  """
  images = tf.keras.Input((None, None, 3), name="image")
  x = images - 0.5 if _centred(config) else images
  for stage, (kernel, factor) in enumerate(zip(KERNEL_SIZES, config.subsampling)):
    last = stage == len(KERNEL_SIZES) - 1
    x = FeatureStage(config.bottleneck_channels if last else config.filters, kernel, factor,
                     skip=stage > 0, nonlinearity=None if last else config.nonlinearity,
                     name=f"feature_stage_{stage + 1}")(x)
  code = tf.keras.layers.Activation("tanh", name="bounded_code")(x)
  return tf.keras.Model(images, code, name="feature_extractor")


def reconstruction(config: DeepSICConfig) -> tf.keras.Model:
  """g: f mirrored, four two-path upsampling stages back to 3 channels around 1/2."""
  features = tf.keras.Input((None, None, config.bottleneck_channels), name="features")
  x = features
  stages = list(zip(reversed(KERNEL_SIZES), reversed(config.subsampling)))
  for stage, (kernel, factor) in enumerate(stages):
    last = stage == len(stages) - 1
    x = ReconstructionStage(3 if last else config.filters, kernel, factor,
                            nonlinearity=None if last else config.nonlinearity,
                            residual_interpolation=_centred(config),
                            name=f"reconstruction_stage_{stage + 1}")(x)
  if _centred(config):
    x = x + 0.5
  return tf.keras.Model(features, x, name="reconstruction")


def semantic_head(config: DeepSICConfig) -> tf.keras.Model:
  """h: convolutions, global pooling, two fully connected layers; returns logits.

  The softmax of the paper's Fig. 4 is applied in the loss and at prediction time, so
  the model's outputs stay numerically safe logits.
  """
  features = tf.keras.Input((None, None, config.bottleneck_channels), name="features")
  x = tf.keras.layers.Conv2D(config.head_filters, 3, padding="same", activation="relu")(features)
  x = tf.keras.layers.Conv2D(config.head_filters, 3, padding="same", activation="relu")(x)
  x = tf.keras.layers.GlobalAveragePooling2D()(x)
  x = tf.keras.layers.Dense(config.head_units, activation="relu", name="fc1")(x)
  logits = tf.keras.layers.Dense(config.num_classes, name="fc2")(x)
  return tf.keras.Model(features, logits, name="semantic_head")


def coding_model(cdf: tf.Tensor, cdf_offset: tf.Tensor) -> tfc.ContinuousBatchedEntropyModel:
  """The range coder over a code, from its tables alone.

  The codec builds it from the trained prior; the TF Serving client from the tables the
  serving export hands out, so both write the same bytes.
  """
  return tfc.ContinuousBatchedEntropyModel(
      prior_shape=(int(cdf_offset.shape[0]),), cdf=cdf, cdf_offset=cdf_offset, coding_rank=3,
      compression=True, offset_heuristic=False)


class DeepSIC(tf.keras.Model):
  """Pre- or post-semantic DeepSIC, trained end to end on (image, label) batches.

  Images enter as float32 in [0, 1]. In training the quantiser is replaced by additive
  uniform noise (the entropy model's training mode; the rate is of the noisy or of the
  rounded code, as `config.rate_estimate` says); otherwise codes are rounded, so
  `evaluate` reports the rate and quality of real quantisation.

  `prior` is the one factorized prior the model learns: over the code itself
  (`entropy_model="factorized"`), or over the hyperprior's side code z, whose h_s then
  sets each code element's scale (`deepsic_tf.hyperprior`; the rate is both codes').
  """

  def __init__(self, config: DeepSICConfig, **kwargs):
    super().__init__(**kwargs)
    if config.architecture == "reference":
      raise ValueError("a reference config builds deepsic_tf.reference.ReferenceClassifier")
    self.config = config
    self.analysis = feature_extractor(config)
    self.synthesis = reconstruction(config)
    self.head = semantic_head(config)
    self.quantizer = BBitQuantizer(config.bits)
    self.hyperprior = config.entropy_model != "factorized"  # a side code, with or without means
    self.prior = tfc.NoisyDeepFactorized(batch_shape=(
        config.hyper_channels if self.hyperprior else config.bottleneck_channels,))
    if self.hyperprior:
      self.hyper_analysis = hyperprior.hyper_analysis(config.bottleneck_channels,
                                                      config.hyper_channels)
      self.hyper_synthesis = hyperprior.hyper_synthesis(
          config.bottleneck_channels, config.hyper_channels,
          with_mean=config.entropy_model == "mean-scale")
      self.integer_synthesis = hyperprior.IntegerSynthesis(
          self.hyper_synthesis, config.bottleneck_channels, self.quantizer.levels)
    self.prior_frozen = False  # `freeze_all_but("head")` keeps the prior as it is
    self._trackers = {name: tf.keras.metrics.Mean(name) for name in
                      ("loss", "bpp", "mse", "psnr", "cross_entropy")}
    self._top1 = tf.keras.metrics.SparseTopKCategoricalAccuracy(1, name="top1")
    self._top5 = tf.keras.metrics.SparseTopKCategoricalAccuracy(
        min(5, config.num_classes), name="top5")

  def entropy_model(self, compression: bool = False) -> tfc.ContinuousBatchedEntropyModel:
    """The entropy model of `prior` (over the code, or over the side code z); plain
    integer rounding (no offset heuristic).

    For compression, the range-coding tables are computed in a tf.function: tfc's eager
    construction estimates the prior's tails in a Python-driven loop that takes tens of
    seconds, the same computation as one graph takes well under one.
    """
    if not compression:
      return tfc.ContinuousBatchedEntropyModel(self.prior, coding_rank=3, compression=False,
                                              offset_heuristic=False)

    @tf.function
    def tables() -> Tuple[tf.Tensor, tf.Tensor]:
      stateless = tfc.ContinuousBatchedEntropyModel(
          self.prior, coding_rank=3, compression=True, stateless=True, offset_heuristic=False)
      return stateless.cdf, stateless.cdf_offset

    return coding_model(*tables())

  def code_parameters(self, side_code: tf.Tensor, code_shape: tf.Tensor, exact: bool
                      ) -> Tuple[tf.Tensor, tf.Tensor | None]:
    """(scale indexes, means or None) from h_s of the (noisy or rounded) side code, for a
    code of (h, w): float in training, the integer network's (what files use) when `exact`."""
    if exact:
      return self.integer_synthesis.code_parameters(side_code, code_shape)
    parameters = self.hyper_synthesis(side_code)[:, :code_shape[0], :code_shape[1]]
    return hyperprior.split_parameters(parameters, self.config.bottleneck_channels,
                                       self.quantizer.levels)

  def freeze_all_but(self, part: str) -> None:
    """From now on `fit` trains only `part` (recompile after: `fit` keeps what was
    trainable at compile time).

    "entropy-model": f, g and h frozen (batch norm included), so the code, the pixels and
    the classes stay as they are. "head": f, g and the entropy model frozen. Only Eq. 4's
    lambda2 * L_sem depends on h, so this is the paper's objective over h's parameters:
    the head of a model whose transforms have settled, at any crop size, with the bits
    and the pixels of its files unchanged.
    """
    if part not in ("entropy-model", "head"):
      raise ValueError(f"no part {part!r} to train alone")
    frozen = ([self.analysis, self.synthesis, self.head] if part == "entropy-model" else
              [self.analysis, self.synthesis,
               *((self.hyper_analysis, self.hyper_synthesis) if self.hyperprior else ())])
    for layer in frozen:
      layer.trainable = False
    self.prior_frozen = part == "head"

  def _trained_variables(self) -> list:
    """The trainable variables, less the prior's while it is frozen (a tf.Module's
    variables have no `trainable` switch of their own)."""
    if not self.prior_frozen:
      return self.trainable_variables
    prior = {variable.ref() for variable in self.prior.variables}
    return [variable for variable in self.trainable_variables if variable.ref() not in prior]

  def _rate(self, features: tf.Tensor, lattice: tf.Tensor, training: bool
            ) -> Tuple[tf.Tensor, tf.Tensor]:
    """(noisy or rounded code, bits per image) under the model's entropy model."""
    if not self.hyperprior:
      entropy_model = self.entropy_model()
      noisy_or_rounded, bits = entropy_model(lattice, training=training)
      if training and self.config.rate_estimate == "rounded":
        _, bits = entropy_model(lattice, training=False)
      return noisy_or_rounded, bits
    side_code, side_bits = self.entropy_model()(
        self.hyper_analysis(features, training=training), training=training)
    indexes, means = self.code_parameters(side_code, tf.shape(lattice)[1:3], exact=not training)
    code_model = hyperprior.code_model(compression=False)
    noisy_or_rounded, bits = code_model(lattice, indexes, means, training=training)
    if training and self.config.rate_estimate == "rounded":
      _, bits = code_model(lattice, indexes, means, training=False)
    return noisy_or_rounded, bits + side_bits

  def _code(self, images: tf.Tensor, training: bool | None
            ) -> Tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(decoded features, bits per image, class logits)."""
    features = self.analysis(images, training=training)
    lattice = self.quantizer.to_lattice(features)
    noisy_or_rounded, bits = self._rate(features, lattice, bool(training))
    decoded = self.quantizer.from_lattice(noisy_or_rounded)
    head_input = features if self.config.architecture == "pre" else decoded
    return decoded, bits, self.head(head_input, training=training)

  def call(self, images: tf.Tensor, training: bool | None = None
           ) -> Tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(reconstruction in [0, 1], bits per image, class logits)."""
    decoded, bits, logits = self._code(images, training)
    return self.synthesis(decoded, training=training), bits, logits

  def rate_and_logits(self, images: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
    """Bits per image and class logits of the rounded code, no pixels reconstructed.

    The codec classifies exactly so (range coding is lossless), so Table I's accuracy
    comes from batches here rather than from one file per image.
    """
    _, bits, logits = self._code(images, training=False)
    return bits, logits

  def _objective(self, images: tf.Tensor, labels: tf.Tensor, training: bool
              ) -> Tuple[tf.Tensor, Dict[str, tf.Tensor], tf.Tensor]:
    reconstruction, bits, logits = self(images, training=training)
    num_pixels = tf.cast(tf.reduce_prod(tf.shape(images)[:-1]), tf.float32)
    bpp = tf.reduce_sum(bits) / num_pixels
    mse = tf.reduce_mean(tf.math.squared_difference(images * 255.0, reconstruction * 255.0))
    cross_entropy = tf.reduce_mean(
        tf.keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))
    loss = (bpp + self.config.lambda_distortion * mse
            + self.config.lambda_semantic * cross_entropy)
    psnr = 10.0 * tf.math.log(255.0**2 / tf.maximum(mse, 1e-10)) / tf.math.log(10.0)
    values = {"loss": loss, "bpp": bpp, "mse": mse, "psnr": psnr, "cross_entropy": cross_entropy}
    return loss, values, logits

  def _update(self, values: Dict[str, tf.Tensor], labels: tf.Tensor,
              logits: tf.Tensor) -> Dict[str, tf.Tensor]:
    for name, value in values.items():
      self._trackers[name].update_state(value)
    self._top1.update_state(labels, logits)
    self._top5.update_state(labels, logits)
    return {metric.name: metric.result() for metric in self.metrics}

  def train_step(self, data: Tuple[tf.Tensor, tf.Tensor]) -> Dict[str, tf.Tensor]:
    images, labels = data
    with tf.GradientTape() as tape:
      loss, values, logits = self._objective(images, labels, training=True)
      share = replica_share(loss)
    variables = self._trained_variables()
    self.optimizer.apply_gradients(zip(tape.gradient(share, variables), variables))
    return self._update(values, labels, logits)

  def test_step(self, data: Tuple[tf.Tensor, tf.Tensor]) -> Dict[str, tf.Tensor]:
    images, labels = data
    _, values, logits = self._objective(images, labels, training=False)
    return self._update(values, labels, logits)

  @property
  def metrics(self) -> list:
    return [*self._trackers.values(), self._top1, self._top5]
