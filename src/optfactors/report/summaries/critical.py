"""Critical points and saddles: the points whose gradient norm converged."""

from __future__ import annotations

import pandas as pd

from optfactors.report.collect import stage_rows


def converged_points(curves: pd.DataFrame) -> pd.DataFrame:
    """The critical points whose gradient norm got below the threshold."""
    points = stage_rows(curves, "point")
    return points[points["converged"].astype(bool)] if not points.empty else points
