"""`python -m deepsic_tf ...`: see `deepsic_tf.cli`."""
from deepsic_tf.cli import entry_point

entry_point()
