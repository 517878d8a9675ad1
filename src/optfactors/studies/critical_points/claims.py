"""Claims on critical points: rarely minima, and the minimum ratio against the loss, each decided by the one
rule (optfactors.decision) over the critical points found, one per random initialisation (the units here are
initialisations, not seeds of a training)."""

from __future__ import annotations

import pandas as pd
from scipy.stats import spearmanr

from optfactors.decision import Decision, decide_rank, decide_share
from optfactors.report.claims import ClaimResult, Effect, combined, register_claim
from optfactors.studies.common import stage_rows
from optfactors.studies.critical_points.tables import ALPHA, converged_points, ratio_by_initialisations

#: The share of converged critical points that must have a negative eigenvalue.
NOT_MINIMUM_SHARE = 0.95
MISSING = "no converged critical points: make sweep EXP=critical_points"


def _per_problem(curves: pd.DataFrame) -> dict[str, pd.DataFrame]:
    points = converged_points(curves)
    return {str(p): part for p, part in points.groupby("problem")} if not points.empty else {}


def _rank(part: pd.DataFrame) -> Decision:
    """Spearman's ρ(loss, minimum ratio) over the converged points with a ratio, claimed negative."""
    part = part.dropna(subset=["minimum_ratio"])  # no non-zero eigenvalue: no ratio
    return decide_rank(part["loss"], part["minimum_ratio"], "negative")


@register_claim(
    "critical_points_rarely_minima",
    lecture="Critical points of a network's loss are almost never local minima: the Hessian nearly always "
    "has negative eigenvalues left (minimum ratio < 1).",
)
def rarely_minima(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Effect per problem: the share of converged critical points (one per initialisation) with a negative
    eigenvalue (minimum ratio < 1), Wilson score interval; ✓ if every one lies above 95 %."""
    problems = _per_problem(curves)
    detail = (
        "Effect per problem: the share of critical points (|∇L| below the threshold, each from its own "
        "random initialisation) with a negative Hessian eigenvalue beyond the zero tolerance, Wilson score "
        f"interval over the points; reproduced if every interval lies above {NOT_MINIMUM_SHARE:.0%}."
    )
    if not problems:
        return ClaimResult(MISSING, None, detail)
    points = stage_rows(curves, "point")
    effects, parts = [], []
    for problem, part in problems.items():
        negative = int((part["minimum_ratio"] < 1).sum())  # no ratio (no non-zero eigenvalue): not counted
        share = decide_share(negative, len(part), NOT_MINIMUM_SHARE, "above")
        effects.append(Effect(problem, share, digits=3, signed=False))
        total = int((points["problem"] == problem).sum())
        others = ", ".join(
            f"{float((part[c] < 1).mean()):.0%} at zero tolerance {c.rsplit('_', 1)[-1]}"
            for c in part.columns
            if c.startswith("minimum_ratio_tol_")
        )
        parts.append(
            f"{problem}: {share.effect:.0%} of {len(part)} critical points ({total} initialisations) have a "
            f"negative eigenvalue, median minimum ratio {part['minimum_ratio'].median():.3f}"
            + (f" ({others})" if others else "")
        )
    return ClaimResult("; ".join(parts), combined(tuple(effects)), detail, tuple(effects))


@register_claim(
    "minimum_ratio_rises_as_loss_falls",
    lecture="The lower the training loss of a critical point, the larger its minimum ratio: points at low "
    "loss look more like minima.",
    trend="minimum_ratio_trend_with_initialisations",
)
def ratio_rises(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Effect per problem: Spearman's ρ(loss, minimum ratio) over the converged points (`decide_rank`); ✓ if
    every one is negative with p < 0.05, ✗ if one is positive with p < 0.05."""
    problems = _per_problem(curves)
    detail = (
        "Effect per problem: Spearman's ρ(loss, minimum ratio) over the critical points (one per "
        "initialisation), p from t with n - 2 degrees of freedom (exact permutation p up to 8 points); "
        "reproduced if every ρ is negative with p < 0.05, contradicted if one is positive with p < 0.05. The "
        "correlation over every end point of the search, converged or not, is context only."
    )
    if not problems:
        return ClaimResult(MISSING, None, detail)
    points = stage_rows(curves, "point")
    effects, parts = [], []
    for problem, part in problems.items():
        rank = _rank(part)
        effects.append(Effect(problem, rank))
        every = points[points["problem"] == problem]
        rho_all = spearmanr(every["loss"], every["minimum_ratio"], nan_policy="omit")[0]
        parts.append(
            f"{problem}: ρ = {rank.effect:+.2f} over {rank.n} critical points (over all {len(every)} end "
            f"points of the search, converged or not, ρ = {rho_all:+.2f})"
        )
    return ClaimResult("; ".join(parts), combined(tuple(effects)), detail, tuple(effects))


@register_claim(
    "minimum_ratio_trend_with_initialisations",
    lecture="(trend of minimum_ratio_rises_as_loss_falls) With more initialisations, every problem's ρ(loss, "
    "minimum ratio) is negative and significant.",
)
def ratio_trend(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Effect per problem: ρ(loss, minimum ratio) over the converged points of every initialisation run
    (`decide_rank`); ✓ if every one is negative with p < 0.05 (more initialisations keep it so), ✗ if one is
    positive with p < 0.05, else —. How many initialisations p < 0.05 would need if ρ stayed where it is
    (table ratio_trend) is stated, but a projection that assumes ρ does not move cannot decide."""
    table = ratio_by_initialisations(curves)
    detail = (
        "Effect per problem: Spearman's ρ(loss, minimum ratio) over the converged points of all "
        "initialisations run, decided as minimum_ratio_rises_as_loss_falls. Stated, not deciding: ρ over the "
        "first n initialisations (table ratio_trend), and, if ρ stayed where it is, the initialisations "
        "p < 0.05 would need: m = 3 + 1.06 (1.96 / atanh|ρ|)² converged points over the share converged."
    )
    if table.empty or table["rho"].isna().all():
        return ClaimResult("fewer than 3 converged points: make sweep EXP=critical_points", None, detail)
    converged = converged_points(curves)
    effects, parts = [], []
    for problem, part in table.groupby("problem"):
        rank = _rank(converged[converged["problem"] == problem])
        effects.append(Effect(str(problem), rank))
        rhos = ", ".join(f"{r.rho:+.2f}" for r in part.itertuples(index=False))
        needed = part["initialisations_needed"].iloc[-1]
        parts.append(
            f"{problem}: ρ {rhos} over the first {', '.join(str(n) for n in part['initialisations'])} "
            "initialisations; "
            + ("significant" if rank.verdict else f"p < {ALPHA} would need ≈ {needed:,.0f} initialisations")
        )
    return ClaimResult("; ".join(parts), combined(tuple(effects)), detail, tuple(effects))
