"""critical_points: critical points are rarely local minima (minimum ratio vs training loss)."""
