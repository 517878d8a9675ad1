"""Run mechanics: the CLI, one lifecycle for every stage, run records and keys, config checks, loggers."""
