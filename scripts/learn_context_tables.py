"""Learns a DeepSIC model's context tables for `deepsic compress --entropy-coding context`.

The command is `deepsic_tf.context_tables_learn`; see its help (--help).
"""
from deepsic_tf.context_tables_learn import entry_point

if __name__ == "__main__":
  entry_point()
