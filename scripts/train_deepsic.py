"""Trains a DeepSIC model and exports its codec.

The command is `deepsic_tf.train_cli` (installed as `train-deepsic`); see its help (--help).
"""
from deepsic_tf.train_cli import entry_point

if __name__ == "__main__":
  entry_point()
