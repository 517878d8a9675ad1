"""batch_timing: time per update and per epoch vs batch size."""
