"""large_batch_remedies: what closes the large-batch gap: linear scaling, ghost BN, SAM, SWA, LARS, LAMB."""
