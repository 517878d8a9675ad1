"""Claims on critical points: rarely minima, the minimum ratio against the loss, escaping a saddle, and
deeper plain networks training worse (an optimisation issue, not model bias)."""

from __future__ import annotations

import pandas as pd
from scipy.stats import spearmanr

from optfactors.report.claims import ClaimResult, register_claim
from optfactors.studies.common import (
    stage_rows,
)
from optfactors.studies.critical_points.tables import (
    ALPHA,
    converged_points,
    ratio_by_initialisations,
)

#: The share of converged critical points that must have a negative eigenvalue.
NOT_MINIMUM_SHARE = 0.95


def _per_problem(curves: pd.DataFrame) -> dict[str, pd.DataFrame]:
    points = converged_points(curves)
    return {str(p): part for p, part in points.groupby("problem")} if not points.empty else {}


@register_claim(
    "critical_points_rarely_minima",
    lecture="Critical points of a network's loss are almost never local minima: the Hessian nearly always "
    "has negative eigenvalues left (minimum ratio < 1).",
)
def rarely_minima(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Share of converged critical points with minimum ratio < 1, per problem."""
    problems = _per_problem(curves)
    detail = (
        f"Reproduced if in every problem at least {NOT_MINIMUM_SHARE:.0%} of the critical points (|∇L| below "
        "the threshold) have a negative Hessian eigenvalue beyond the zero tolerance."
    )
    if not problems:
        return ClaimResult("no converged critical points: make sweep EXP=critical_points", None, detail)
    points = stage_rows(curves, "point")
    parts, ok = [], []
    for problem, part in problems.items():
        share = float((part["minimum_ratio"] < 1).mean())
        total = int((points["problem"] == problem).sum())
        others = ", ".join(
            f"{float((part[c] < 1).mean()):.0%} at zero tolerance {c.rsplit('_', 1)[-1]}"
            for c in part.columns
            if c.startswith("minimum_ratio_tol_")
        )
        parts.append(
            f"{problem}: {share:.0%} of {len(part)} critical points ({total} initialisations) have a "
            "negative "
            f"eigenvalue, median minimum ratio {part['minimum_ratio'].median():.3f} ({others})"
        )
        ok.append(share >= NOT_MINIMUM_SHARE)
    return ClaimResult("; ".join(parts), all(ok), detail)


@register_claim(
    "minimum_ratio_rises_as_loss_falls",
    lecture="The lower the training loss of a critical point, the larger its minimum ratio: points at low "
    "loss look more like minima.",
    trend="minimum_ratio_trend_with_initialisations",
)
def ratio_rises(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Spearman rank correlation between loss and minimum ratio over the converged points, per problem."""
    problems = _per_problem(curves)
    detail = (
        "Reproduced if in every problem Spearman's ρ(loss, minimum ratio) over the critical points "
        "is negative "
        "with p < 0.05 (the correlation over every end point of the search is context only)."
    )
    if not problems:
        return ClaimResult("no converged critical points: make sweep EXP=critical_points", None, detail)
    points = stage_rows(curves, "point")
    parts, ok = [], []
    for problem, part in problems.items():
        part = part.dropna(subset=["minimum_ratio"])  # no non-zero eigenvalue: no ratio
        rho, p = spearmanr(part["loss"], part["minimum_ratio"])
        every = points[points["problem"] == problem]
        rho_all = spearmanr(every["loss"], every["minimum_ratio"], nan_policy="omit")[0]
        parts.append(
            f"{problem}: ρ = {rho:+.2f} (p = {p:.2g}, n = {len(part)}; over all {len(every)} end "
            "points of the "
            f"search, converged or not, ρ = {rho_all:+.2f})"
        )
        ok.append(bool(rho < 0 and p < 0.05))
    return ClaimResult("; ".join(parts), all(ok), detail)


#: How many times the study's initialisations a trend toward ✓ may need.
AFFORDABLE_BUDGET = 4


@register_claim(
    "minimum_ratio_trend_with_initialisations",
    lecture="(trend of minimum_ratio_rises_as_loss_falls) With more initialisations, every problem's ρ(loss, "
    "minimum ratio) is negative and significant.",
)
def ratio_trend(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Per problem: ρ and p over all initialisations, and how many would make ρ significant if it held."""
    table = ratio_by_initialisations(curves)
    detail = (
        "ρ and p over the converged points of the first n initialisations (table ratio_trend); if ρ stayed "
        "where it is, p < 0.05 would need m = 3 + 1.06 (1.96 / atanh|ρ|)² converged points, i.e. m / (share "
        f"converged) initialisations. Trend toward ✓ if in every problem ρ < 0 and that is at most "
        f"{AFFORDABLE_BUDGET}x the initialisations run."
    )
    if table.empty or table["rho"].isna().all():
        return ClaimResult("fewer than 3 converged points: make sweep EXP=critical_points", None, detail)
    parts, ok = [], []
    for problem, part in table.groupby("problem"):
        last = part.iloc[-1]
        rhos = ", ".join(f"{r.rho:+.2f}" for r in part.itertuples(index=False))
        significant = last["rho"] < 0 and last["p"] < ALPHA
        parts.append(
            f"{problem}: ρ {rhos} over the first {', '.join(str(n) for n in part['initialisations'])} "
            f"initialisations; "
            + (
                "significant"
                if significant
                else f"p < {ALPHA} would need ≈ {last['initialisations_needed']:,.0f} initialisations"
            )
        )
        ok.append(
            bool(
                last["rho"] < 0
                and last["initialisations_needed"] <= AFFORDABLE_BUDGET * last["initialisations"]
            )
        )
    return ClaimResult("; ".join(parts), all(ok), detail)
