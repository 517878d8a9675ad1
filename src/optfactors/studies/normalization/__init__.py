"""normalization: BatchNorm and gradient clipping let SGD use larger learning rates."""
