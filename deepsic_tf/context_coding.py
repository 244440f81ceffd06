"""Context-adaptive binary coding of DeepSIC's code: the paper's CABAC (section III-B).

The paper codes its quantised features with context-adaptive binary arithmetic coding:
each value becomes binary decisions, and each decision's probability is learned, as the
file is coded, within a context of its position and its neighbours. Here, for a code of
(rows, cols, C) integers in the B-bit range, row by row (docs/deepsic_entropy_model.md
measures the design against the factorized prior):

- **zero flag** (value != 0), the channels in `GROUPS` groups one after another; its
  context: the channel, how many of the C channels are nonzero at the three positions
  above (4 buckets), how many of this channel's three are (0, 1, 2+), and, from the
  second group on, the share of the earlier groups' channels nonzero at this position
  (3 buckets);
- **sign** of a nonzero value; its context: the channel;
- **magnitude**, unary: "|value| > j + 1" for j < `MAGNITUDE_BINS`; its context: the
  channel, j and the share of channels nonzero at this position (4 buckets); what is
  left beyond that is written in plain bits.

A context's probability of a one is the Krichevsky-Trofimov estimate of its counts
(`compression_eval.binary_coding`'s bins), counts that start from tables learned on
Imagenette codes (`learn_tables`, as CABAC starts from initialisation tables), each
scaled to `PRIOR_WEIGHT` decisions so that the image soon outweighs them. Counts are
integers and a bin is an integer division, so the decoder rebuilds every probability
exactly in any process. The decisions of a row within a context share one probability,
so each step of a row is one range-coder call (about 20 a row), not one a value. A code
taller than wide is coded transposed (its columns as rows), so that the calls follow the
shorter side: a 1 x 65,535 image's 4,096 rows would otherwise take 25,000 calls.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tensorflow_compression as tfc

from compression_eval import binary_coding
from compression_eval.binary_coding import BINS, LOOKUP
from compression_eval.errors import UserError
from compression_eval.fileio import read_arrays, write_arrays

FILE_NAME = "context_tables.npz"
GROUPS = 4  # zero flags of a row: a range-coder call per group of channels
MAGNITUDE_BINS = 12  # unary decisions "|value| > j + 1" before plain bits
PRIOR_WEIGHT = 32  # decisions a learned context's counts are worth at the start
_ACTIVITY, _SAME, _SHARE = 4, 3, 4  # buckets of the zero flag's context parts
ZERO_CONTEXTS = _SHARE * _ACTIVITY * _SAME
POSITION_BUCKETS = 4  # the magnitude's context: share of channels nonzero here
_PLAIN_INDEX = BINS // 2  # a plain bit: probability (BINS / 2 + 1/2) / BINS, about 1/2
_ARRAYS = ("zero_ones", "zero_seen", "sign_ones", "sign_seen", "magnitude_ones",
           "magnitude_seen")

# (indexes, bits or None) -> bits: codes one call's decisions (None: decode them).
Step = Callable[[np.ndarray, Optional[np.ndarray]], np.ndarray]


@dataclasses.dataclass
class ContextTables:
  """Every context's counts of ones and of decisions (int64), and the model they are for."""
  zero_ones: np.ndarray  # (C, ZERO_CONTEXTS)
  zero_seen: np.ndarray
  sign_ones: np.ndarray  # (C,)
  sign_seen: np.ndarray
  magnitude_ones: np.ndarray  # (C, MAGNITUDE_BINS, POSITION_BUCKETS)
  magnitude_seen: np.ndarray
  model_id: int = 0

  @classmethod
  def empty(cls, channels: int, model_id: int = 0) -> "ContextTables":
    zeros = {"zero": (channels, ZERO_CONTEXTS), "sign": (channels,),
             "magnitude": (channels, MAGNITUDE_BINS, POSITION_BUCKETS)}
    return cls(**{f"{part}_{count}": np.zeros(shape, np.int64)
                  for part, shape in zeros.items() for count in ("ones", "seen")},
               model_id=model_id)

  @property
  def channels(self) -> int:
    return self.zero_ones.shape[0]

  def copy(self) -> "ContextTables":
    return dataclasses.replace(self, **{name: getattr(self, name).copy() for name in _ARRAYS})

  def scaled(self, weight: int = PRIOR_WEIGHT) -> "ContextTables":
    """Each context's counts scaled down to at most `weight` decisions (integers)."""
    scaled = {}
    for part in ("zero", "sign", "magnitude"):
      ones, seen = getattr(self, f"{part}_ones"), getattr(self, f"{part}_seen")
      kept = np.minimum(seen, weight)
      scaled[f"{part}_ones"] = (ones * kept + seen // 2) // np.maximum(seen, 1)
      scaled[f"{part}_seen"] = kept
    return dataclasses.replace(self, **scaled)

  def save(self, path: str | Path) -> None:
    write_arrays(path, {**{name: getattr(self, name) for name in _ARRAYS},
                        "model_id": np.int64(self.model_id)})

  @classmethod
  def load(cls, path: str | Path) -> "ContextTables":
    """The tables in a context_tables.npz, or a one-line `UserError`."""
    arrays = read_arrays(path, (*_ARRAYS, "model_id"), "a DeepSIC context table")
    if arrays["model_id"].shape != () or arrays["model_id"].dtype != np.int64:
      raise UserError(f"{path} is not a DeepSIC context table (wrong model id)")
    tables = cls(**{name: arrays[name] for name in _ARRAYS}, model_id=int(arrays["model_id"]))
    expected = cls.empty(len(arrays["sign_ones"]) if arrays["sign_ones"].ndim == 1 else 0)
    if any(getattr(tables, name).shape != getattr(expected, name).shape or
           getattr(tables, name).dtype != np.int64 for name in _ARRAYS) or any(
               (getattr(tables, f"{part}_ones") < 0).any() or
               (getattr(tables, f"{part}_ones") > getattr(tables, f"{part}_seen")).any()
               for part in ("zero", "sign", "magnitude")):
      raise UserError(f"{path} is not a DeepSIC context table (wrong table shapes or counts)")
    return tables


def _bins(ones: np.ndarray, seen: np.ndarray) -> np.ndarray:
  """Each context's bin: floor(BINS (ones + 1/2) / (seen + 1)) in integers."""
  return np.minimum((2 * ones + 1) * BINS // (2 * seen + 2), BINS - 1)


def _beside(values: np.ndarray) -> np.ndarray:
  """values[c - 1] + values[c] + values[c + 1] along the first axis (0 beyond the edges)."""
  total = values.copy()
  total[1:] += values[:-1]
  total[:-1] += values[1:]
  return total


def _plain_bits(levels: Tuple[int, int]) -> int:
  """Plain bits for |value| - (MAGNITUDE_BINS + 1), what the unary decisions leave."""
  return max(max(-levels[0], levels[1]) - (MAGNITUDE_BINS + 1), 0).bit_length()


def _code_rows(shape: Tuple[int, int, int], levels: Tuple[int, int],
               counts: ContextTables, step: Step,
               code: Optional[np.ndarray] = None, groups: int = GROUPS) -> np.ndarray:
  """Codes (or, with `code` None, decodes through `step`) a code of `shape`, updating
  `counts`; returns the code. The one procedure of encoder, decoder and `learn_tables`
  (`groups` other than `GROUPS` only for the ablation: files always use `GROUPS`)."""
  rows, cols, channels = shape
  channel = np.broadcast_to(np.arange(channels), (cols, channels))
  group = np.arange(channels) * groups // channels
  group_start = [int(np.argmax(group == g)) for g in range(groups)]
  plain = _plain_bits(levels)
  decoded = np.zeros(shape, np.int32)
  above = np.zeros((cols, channels), np.int64)
  for row in range(rows):
    known = None if code is None else code[row]
    activity = np.minimum(_ACTIVITY * _beside(above.sum(-1)) // (3 * channels), _ACTIVITY - 1)
    same = np.minimum(_beside(above), _SAME - 1)
    nonzero = np.zeros((cols, channels), np.int64)
    for g in range(groups):
      members = group == g
      if not members.any():
        continue
      share = 0
      if g:
        earlier = nonzero[:, :group_start[g]].sum(-1, keepdims=True)
        share = 1 + np.minimum(6 * earlier // group_start[g], _SHARE - 2)
      context = (share * _ACTIVITY + activity[:, None]) * _SAME + same[:, members]
      where = (channel[:, members], context)
      flags = step(_bins(counts.zero_ones[where], counts.zero_seen[where]).ravel(),
                   None if known is None else (known[:, members] != 0).ravel())
      nonzero[:, members] = flags.reshape(cols, -1)
      np.add.at(counts.zero_ones, where, nonzero[:, members])
      np.add.at(counts.zero_seen, where, 1)
    alive = nonzero == 1
    which = channel[alive]
    negative = step(_bins(counts.sign_ones[which], counts.sign_seen[which]),
                    None if known is None else (known[alive] < 0).astype(np.int64))
    np.add.at(counts.sign_ones, which, negative)
    np.add.at(counts.sign_seen, which, 1)
    magnitude = alive.astype(np.int64)
    position = np.broadcast_to(np.minimum(POSITION_BUCKETS * nonzero.sum(-1, keepdims=True)
                                          // channels, POSITION_BUCKETS - 1), (cols, channels))
    for j in range(MAGNITUDE_BINS):
      if not alive.any():
        break
      where = (channel[alive], j, position[alive])
      more = step(_bins(counts.magnitude_ones[where], counts.magnitude_seen[where]),
                  None if known is None else (np.abs(known[alive]) > j + 1).astype(np.int64))
      np.add.at(counts.magnitude_ones, where, more)
      np.add.at(counts.magnitude_seen, where, 1)
      magnitude[alive] += more
      alive[alive] = more == 1
    if alive.any() and plain:
      extra = None if known is None else np.abs(known[alive]) - (MAGNITUDE_BINS + 1)
      weights = 1 << np.arange(plain - 1, -1, -1)
      bits = step(np.full(alive.sum() * plain, _PLAIN_INDEX),
                  None if extra is None else ((extra[:, None] // weights) % 2).ravel())
      magnitude[alive] += bits.reshape(-1, plain) @ weights
    values = np.where(nonzero == 1, magnitude, 0)
    values[nonzero == 1] *= 1 - 2 * negative
    decoded[row] = values
    above = nonzero
  return decoded


def _transposed(shape: Sequence[int]) -> bool:
  """Whether a code of `shape` is coded column by column (taller than wide)."""
  return shape[0] > shape[1]


def _coding_order(code: np.ndarray, levels: Tuple[int, int]) -> np.ndarray:
  """A checked code, transposed where it is coded so."""
  code = np.asarray(code)
  if code.ndim != 3 or code.min(initial=0) < levels[0] or code.max(initial=0) > levels[1]:
    raise ValueError(f"a code (rows, cols, channels) within {levels} is needed")
  return (code.transpose(1, 0, 2) if _transposed(code.shape) else code).astype(np.int64)


def _recorder(indexes: list, bits: list) -> Step:
  def step(step_indexes: np.ndarray, step_bits: Optional[np.ndarray]) -> np.ndarray:
    indexes.append(np.asarray(step_indexes, np.int32).ravel())
    bits.append(np.asarray(step_bits, np.int32).ravel())
    return np.asarray(step_bits, np.int64)
  return step


def decisions(code: np.ndarray, levels: Tuple[int, int], tables: ContextTables,
              groups: int = GROUPS) -> Tuple[np.ndarray, np.ndarray]:
  """Every binary decision of a code in coding order, and its bin index."""
  indexes, bits = [], []
  ordered = _coding_order(code, levels)
  _code_rows(ordered.shape, levels, tables.copy(), _recorder(indexes, bits), ordered, groups)
  return np.concatenate(indexes or [np.zeros(0, np.int32)]), np.concatenate(
      bits or [np.zeros(0, np.int32)])


def encode(code: np.ndarray, levels: Tuple[int, int], tables: ContextTables) -> bytes:
  """A code (rows, cols, channels) of integers within `levels` to range-coded bytes."""
  indexes, bits = decisions(code, levels, tables)
  handle = tfc.create_range_encoder([], LOOKUP)
  handle = tfc.entropy_encode_index(handle, tf.constant(indexes), tf.constant(bits))
  return tfc.entropy_encode_finalize(handle).numpy()


def decode(payload: bytes, shape: Tuple[int, int, int], levels: Tuple[int, int],
           tables: ContextTables) -> np.ndarray:
  """Inverse of `encode`; a payload it did not write is a one-line `UserError`.

  The range decoder reads any bytes as some decisions, so the decisions are coded again
  and must give the payload back byte for byte (one encoder call: cheap)."""
  handle = tfc.create_range_decoder(tf.constant(payload), LOOKUP)

  def step(indexes: np.ndarray, _: Optional[np.ndarray]) -> np.ndarray:
    nonlocal handle
    indexes = np.asarray(indexes, np.int32).ravel()
    if not indexes.size:
      return np.zeros(0, np.int64)
    handle, bits = tfc.entropy_decode_index(handle, tf.constant(indexes), [indexes.size],
                                            tf.int32)
    return bits.numpy().astype(np.int64)

  transposed = _transposed(shape)
  try:
    code = _code_rows((shape[1], shape[0], shape[2]) if transposed else tuple(shape), levels,
                      tables.copy(), step)
    finished = bool(tfc.entropy_decode_finalize(handle).numpy())
  except tf.errors.OpError:
    finished = False
  if transposed:
    code = code.transpose(1, 0, 2)
  if not finished or code.min(initial=0) < levels[0] or code.max(initial=0) > levels[1] or (
      encode(code, levels, tables) != payload):
    raise UserError("corrupt DeepSIC file, or one written with other context tables than "
                    "this codec's (its context-coded code does not decode)")
  return code.astype(np.int32)


def ideal_bits(code: np.ndarray, levels: Tuple[int, int], tables: ContextTables,
               groups: int = GROUPS) -> float:
  """The code's rate under this model: what a perfect coder spends on its decisions."""
  return binary_coding.ideal_bits(*decisions(code, levels, tables, groups))


def learn_tables(codes: Sequence[np.ndarray], levels: Tuple[int, int], model_id: int,
                 weight: int = PRIOR_WEIGHT, groups: int = GROUPS) -> ContextTables:
  """Initial counts from training codes: every context's counts over all of them, coded
  one after another, scaled to at most `weight` decisions."""
  counts = ContextTables.empty(codes[0].shape[-1], model_id)
  for code in codes:
    ordered = _coding_order(code, levels)
    _code_rows(ordered.shape, levels, counts, lambda _, bits: np.asarray(bits, np.int64),
               ordered, groups)
  return counts.scaled(weight)
