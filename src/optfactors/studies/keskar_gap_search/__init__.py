"""keskar_gap_search: the search for a CPU-sized setting where the generalization gap shows."""
