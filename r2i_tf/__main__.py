"""`python -m r2i_tf ...`: see `r2i_tf.cli`."""
from r2i_tf.cli import entry_point

entry_point()
