"""Critical points and saddles: the points whose gradient norm converged."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from optfactors.report.tables import register_table
from optfactors.studies.common import (
    stage_rows,
)


def converged_points(curves: pd.DataFrame) -> pd.DataFrame:
    """The critical points whose gradient norm got below the threshold."""
    points = stage_rows(curves, "point")
    return points[points["converged"].astype(bool)] if not points.empty else points


#: Two-sided significance level of the minimum-ratio claim.
ALPHA = 0.05


def points_for_significance(rho: float) -> float:
    """Converged points needed for Spearman's ρ to reach p < 0.05 (two-sided) if it stayed at ``rho``:
    m = 3 + 1.06 (1.96 / atanh |ρ|)² (Fieller et al.'s variance of atanh of Spearman's ρ); inf at ρ = 0."""
    z = np.arctanh(min(abs(rho), 0.999999))
    return 3 + 1.06 * (1.959964 / z) ** 2 if z > 0 else np.inf


def ratio_by_initialisations(curves: pd.DataFrame, steps: int = 4) -> pd.DataFrame:
    """Per problem, over the first n initialisations (n at ``steps`` even steps up to all of them): how many
    converged, Spearman's ρ(loss, minimum ratio) over those and its p-value, and the initialisations that
    would give p < 0.05 at that ρ and that share converged."""
    points = stage_rows(curves, "point")
    rows = []
    for problem, part in points.groupby("problem"):
        part = part.sort_values("init_seed")
        for n in np.linspace(len(part) / steps, len(part), steps).round().astype(int):
            first = part.iloc[:n]
            converged = first[first["converged"].astype(bool)].dropna(subset=["minimum_ratio"])
            rho, p = (
                spearmanr(converged["loss"], converged["minimum_ratio"])
                if len(converged) > 2
                else (np.nan,) * 2
            )
            share = len(converged) / n
            needed = points_for_significance(rho) / share if share and np.isfinite(rho) else np.inf
            rows.append(
                {
                    "problem": problem,
                    "initialisations": int(n),
                    "converged": len(converged),
                    "rho": rho,
                    "p": p,
                    "initialisations_needed": needed,
                }
            )
    return pd.DataFrame(rows)


@register_table("ratio_trend")
def ratio_trend(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Per problem, over the first n initialisations: converged points, Spearman's ρ(loss, minimum ratio)
    over them and its p-value, and the initialisations p < 0.05 would need if ρ stayed there."""
    table = ratio_by_initialisations(curves)
    return table.assign(
        rho=table["rho"].round(3),
        p=table["p"].map(lambda p: f"{p:.2g}"),
        initialisations_needed=table["initialisations_needed"].map(lambda n: f"{n:,.0f}"),
    )
