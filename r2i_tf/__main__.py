"""`python -m r2i_tf ...`: see `r2i_tf.cli`."""
from compression_eval.errors import run_cli
from r2i_tf.cli import main

run_cli(main)
