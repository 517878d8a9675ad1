"""quickstart: the quick start: batch 32 vs 4,096 on MNIST."""
