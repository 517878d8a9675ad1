"""critical_batch: Shallue et al.: updates to a target vs batch size, and the noise scale."""
