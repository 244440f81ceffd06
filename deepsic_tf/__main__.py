"""`python -m deepsic_tf ...`: see `deepsic_tf.cli`."""
from compression_eval.errors import run_cli
from deepsic_tf.cli import main

run_cli(main)
