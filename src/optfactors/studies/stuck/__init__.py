"""stuck: training stuck is not a small gradient."""
