"""What needs both model families: the zoo of shipped models by name, the codec registry,
the evaluation runner, the papers' tables and their reproduction.

The floors, bottom up: `compression_eval` (knows no model) -> `deepsic_tf`, `r2i_tf`
(each exposes one `compression_eval.family.Family`) -> this package -> `scripts/`.
Choosing between the families is written once, in `compression_zoo.families`.
"""
