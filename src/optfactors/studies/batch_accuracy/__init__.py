"""batch_accuracy: train and validation accuracy vs batch size at equal epochs."""
