"""Trains a progressive binary coder (R2I, IR2I or the residual encoder) and exports its codec.

The command is `r2i_tf.train_cli` (installed as `train-r2i`); see its help (--help).
"""
from r2i_tf.train_cli import entry_point

if __name__ == "__main__":
  entry_point()
