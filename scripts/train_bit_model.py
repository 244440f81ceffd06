"""Trains a coder's learned bit model for `r2i compress --entropy-coding learned`.

The command is `r2i_tf.bit_model_train`; see its help (--help).
"""
from r2i_tf.bit_model_train import entry_point

if __name__ == "__main__":
  entry_point()
