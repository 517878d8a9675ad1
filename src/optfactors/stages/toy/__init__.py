"""The toy stage: 2-D surfaces, the lecture's optimizers on them, their paths."""
