"""sharp_flat: Keskar et al. Tables 3-4: large-batch solutions are sharper."""
