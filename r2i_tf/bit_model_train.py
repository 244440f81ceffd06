"""Trains a coder's learned bit model (`r2i_tf.bit_model`): codes, float training, integers.

  python scripts/train_bit_model.py --model r2i-decoding --images 1500 --steps 36000

The coder encodes training images (an ImageNet-layout folder's training split; never
Kodak) into every stage's bits; `r2i_tf.bit_contexts` turns them into what the decoder
knows of each block and pass and the bits the pass codes; a two-layer network learns the
bits' probabilities with the cross-entropy in bits, the rate an ideal coder would spend.
Its weights are then quantised to integers (`BitModel.quantise`) and the rate of both,
float and integer, is measured on held-out images, so the quantisation's cost is on
record. The tables go beside the coder's weights (saved_models/NAME/bit_model.npz).
"""
from __future__ import annotations

import sys
import time
import zipfile
from pathlib import Path
from typing import Iterator, List, Sequence, Tuple

import numpy as np
import tensorflow as tf

from compression_eval import side_tables
from compression_eval.binary_coding import ideal_bits
from compression_eval.datasets.image_folder import ImageFolderSource
from compression_eval.errors import UserError, run_cli
from compression_eval.images import read_rgb8
from compression_eval.model_lookup import beside_weights, codec_folder
from r2i_tf import bit_contexts, entropy
from r2i_tf.bit_model import ADAPTIVE_SCALE, FILE_NAME, BitModel
from r2i_tf.blocks import grid_shape
from r2i_tf.family import FAMILY
from r2i_tf.saved_codec import SavedCodec

HIDDEN = 512  # docs/r2i_bit_model.md: 1.8-3.5 % fewer held-out bits than 256 (int16 tables)
GROUPS = 4  # passes per row of blocks: the ablation in docs/r2i_bit_model.md


def collect_codes(codec: SavedCodec, paths: Sequence[str], log_every: int = 100
                  ) -> List[np.ndarray]:
  """Every stage's bits of each image, as grids (stages, rows, cols, bits per block)."""
  codes = []
  start = time.perf_counter()
  for count, path in enumerate(paths, start=1):
    image = read_rgb8(path)
    rows, cols = grid_shape(*image.shape[:2])
    codes.append(codec.bits(image).reshape(codec.config.stages, rows, cols, -1))
    if count % log_every == 0:
      print(f"  coded {count}/{len(paths)} images ({time.perf_counter() - start:.0f} s)",
            flush=True)
  return codes


def _image_examples(grid: np.ndarray, groups: int
                    ) -> Iterator[Tuple[np.ndarray, np.ndarray, np.ndarray]]:
  """One image's (context, adaptive, target) rows, a block's per stage and pass."""
  passes = bit_contexts.channel_groups(grid.shape[-1], groups)
  for stage in range(grid.shape[0]):
    bits = grid[stage].reshape(-1, grid.shape[-1]).astype(np.int8)
    stage_contexts, adaptive = bit_contexts.stage_inputs(grid[:stage + 1], grid.shape[0],
                                                         groups)
    for group, context in enumerate(stage_contexts):
      yield context, adaptive, np.where(passes == group, bits, np.int8(-1))


def examples(codes: Sequence[np.ndarray], groups: int
             ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Context inputs (N, inputs) int8, adaptive inputs (N, bits) int8 and targets
  (N, bits) int8, one row per block, stage and pass of every image: the bits the pass
  codes as 0/1, the others as -1 (`masked_cross_entropy` leaves them out).

  The rows are written into arrays allocated once: 1,500 images' contexts alone take
  5 GB, and gathering them in lists to concatenate took twice that."""
  count = sum(grid.shape[0] * grid.shape[1] * grid.shape[2] * groups for grid in codes)
  first = next(_image_examples(codes[0], groups))
  arrays = tuple(np.empty((count, part.shape[1]), np.int8) for part in first)
  row = 0
  for grid in codes:
    for parts in _image_examples(grid, groups):
      for array, part in zip(arrays, parts):
        array[row:row + len(part)] = part
      row += len(parts[0])
  return arrays


class _PerBit(tf.keras.layers.Layer):
  """Each bit's adaptive input times a weight of its own (starting at 0)."""

  def build(self, input_shape):
    self.kernel = self.add_weight("kernel", shape=input_shape[-1:], initializer="zeros")

  def call(self, inputs):
    return inputs * self.kernel


class FloatNetwork(tf.keras.Model):
  """The network the integer one is quantised from: context -> ReLU layer -> logits, plus
  each bit's adaptive input (divided by ADAPTIVE_SCALE) times a weight."""

  def __init__(self, hidden: int, bits: int):
    super().__init__()
    self.first = tf.keras.layers.Dense(hidden, activation="relu")
    self.second = tf.keras.layers.Dense(bits)
    self.per_bit = _PerBit()

  def call(self, inputs):
    context, adaptive = inputs
    return self.second(self.first(context)) + self.per_bit(adaptive / ADAPTIVE_SCALE)

  def tables(self) -> List[np.ndarray]:
    """[W1, b1, W2, b2, w_adaptive], as `BitModel.quantise` takes them."""
    return [w.numpy() for w in (self.first.kernel, self.first.bias, self.second.kernel,
                                self.second.bias, self.per_bit.kernel)]


def masked_cross_entropy(targets: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
  """The mean binary cross-entropy over the bits with targets 0 or 1 (-1: not coded by
  the example's pass)."""
  coded = tf.cast(targets >= 0, tf.float32)
  losses = tf.nn.sigmoid_cross_entropy_with_logits(tf.maximum(targets, 0.0), logits)
  return tf.reduce_sum(losses * coded) / tf.maximum(tf.reduce_sum(coded), 1.0)


def _batches(train_set: Tuple[np.ndarray, np.ndarray, np.ndarray], batch: int, seed: int
             ) -> Iterator[Tuple[Tuple[np.ndarray, np.ndarray], np.ndarray]]:
  """Float batches of the int8 rows in a fresh random order each epoch, taken from the
  arrays as they are: a `tf.data` dataset of them would copy all of them."""
  rng = np.random.default_rng(seed)
  context, adaptive, target = train_set
  while True:
    order = rng.permutation(len(target))
    for start in range(0, len(order) - batch + 1, batch):
      rows = np.sort(order[start:start + batch])
      yield ((context[rows].astype(np.float32), adaptive[rows].astype(np.float32)),
             target[rows].astype(np.float32))


def train(train_set: Tuple[np.ndarray, np.ndarray, np.ndarray], steps: int,
          hidden: int = HIDDEN, batch: int = 256, learning_rate: float = 2e-3,
          seed: int = 0) -> FloatNetwork:
  """Adam on the cross-entropy, the learning rate decayed to a hundredth over `steps`."""
  tf.keras.utils.set_random_seed(seed)
  model = FloatNetwork(hidden, train_set[2].shape[1])
  schedule = tf.keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.01)
  model.compile(tf.keras.optimizers.Adam(schedule), masked_cross_entropy)
  batch = min(batch, len(train_set[2]))
  signature = ((tf.TensorSpec((batch, train_set[0].shape[1]), tf.float32),
                tf.TensorSpec((batch, train_set[1].shape[1]), tf.float32)),
               tf.TensorSpec((batch, train_set[2].shape[1]), tf.float32))
  data = tf.data.Dataset.from_generator(lambda: _batches(train_set, batch, seed),
                                        output_signature=signature).prefetch(4)
  epochs = 10
  model.fit(data, steps_per_epoch=max(1, steps // epochs), epochs=epochs, verbose=2)
  return model


def float_bits(model: FloatNetwork, context: np.ndarray, adaptive: np.ndarray,
               targets: np.ndarray) -> float:
  """The rate (bits) of the float network's probabilities, unquantised."""
  logits = model.predict((context.astype(np.float32), adaptive.astype(np.float32)),
                         batch_size=4096, verbose=0)
  signed = np.where(targets == 1, 1.0, -1.0) * logits.astype(np.float64)
  bits = np.logaddexp(0.0, -signed) / np.log(2.0)  # -log2 sigmoid(+-logit), stable
  return float(np.sum(bits[targets >= 0]))


def integer_bits(model: BitModel, context: np.ndarray, adaptive: np.ndarray,
                 targets: np.ndarray, chunk: int = 4096) -> float:
  """The rate (bits) of the integer model's CDF bins over the coded targets (0 or 1),
  computed a chunk of rows at a time."""
  total = 0.0
  for i in range(0, len(targets), chunk):
    coded = targets[i:i + chunk] >= 0
    indexes = model.indexes(context[i:i + chunk], adaptive[i:i + chunk])
    total += ideal_bits(indexes[coded], targets[i:i + chunk][coded])
  return total


def _load_codes(path: str) -> List[np.ndarray]:
  """The code grids an earlier run kept (--codes), in image order, or a `UserError`."""
  try:
    with np.load(path) as saved:
      keys = sorted(saved.files, key=lambda key: int(key[1:]))
      codes = [saved[key] for key in keys]
  except (OSError, ValueError, zipfile.BadZipFile, EOFError):
    raise UserError(f"{path} is not a file of coded bits (--codes)") from None
  if any(grid.ndim != 4 or grid.dtype != np.uint8 for grid in codes):
    raise UserError(f"{path} is not a file of coded bits (--codes)")
  return codes


def main(argv: List[str] | None = None) -> int:
  parser = side_tables.learner_parser(__doc__.split("\n\n")[0], "R2I/IR2I", FILE_NAME,
                                      images=1500)
  parser.add_argument("--steps", type=int, default=72000)
  parser.add_argument("--hidden", type=int, default=HIDDEN)
  parser.add_argument("--groups", type=int, default=GROUPS,
                      help="passes per row of blocks (1: a row's bits in one pass)")
  parser.add_argument("--first-code-stages", type=int,
                      help="IR2I: code the images with this first code (default the "
                      "model's), as `r2i compress --first-code-stages` writes them")
  parser.add_argument("--codes", help="an .npz to keep the coded bits in (reused if present: "
                      "its first --images + --held-out images)")
  args = parser.parse_args(sys.argv[1:] if argv is None else argv)
  started = time.perf_counter()
  folder = codec_folder(FAMILY, args.model)
  codec = SavedCodec(folder, first_code_stages=args.first_code_stages)
  output = Path(args.output or beside_weights(args.model, folder, FILE_NAME))

  wanted = args.images + args.held_out
  if args.codes and Path(args.codes).is_file():
    codes = _load_codes(args.codes)[:wanted]
    if len(codes) < wanted:
      raise UserError(f"{args.codes} holds {len(codes)} images' codes, fewer than {wanted}")
  else:
    paths = ImageFolderSource.scan(args.dataset, "train").sample(wanted, args.seed)
    print(f"coding {len(paths)} images of {args.dataset}/train with {args.model}", flush=True)
    codes = collect_codes(codec, paths)
    if args.codes:
      np.savez_compressed(args.codes, **{f"c{i}": grid for i, grid in enumerate(codes)})
  held_codes = codes[len(codes) - args.held_out:]
  held = examples(held_codes, args.groups)
  train_set = examples(codes[:len(codes) - args.held_out], args.groups)
  model = train(train_set, args.steps, args.hidden, seed=args.seed)
  bit_model = BitModel.quantise(model.tables(), codes[0].shape[0], args.groups,
                                [codec.model_id])
  total = np.count_nonzero(held[2] >= 0)
  rates = {"adaptive": sum(entropy.ideal_bits(stage.reshape(-1, stage.shape[-1]), grid.shape[2])
                           for grid in held_codes for stage in grid) / total,
           "float": float_bits(model, *held) / total,
           "integer": integer_bits(bit_model, *held) / total}
  return side_tables.write(bit_model.save, output, args, started, steps=args.steps,
                           hidden=args.hidden, groups=args.groups,
                           bits_per_bit_held_out=rates)


def entry_point() -> None:
  run_cli(main)
