"""warmup: warm-up at large learning rates."""
