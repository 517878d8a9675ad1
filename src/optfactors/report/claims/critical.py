"""Claims on critical points: rarely minima, the minimum ratio against the loss, escaping a saddle, and
deeper plain networks training worse (an optimisation issue, not model bias)."""

from __future__ import annotations

import pandas as pd
from scipy.stats import spearmanr

from optfactors.report.claims import ClaimResult, register_claim
from optfactors.report.collect import stage_rows
from optfactors.report.summaries.critical import ALPHA, converged_points, ratio_by_initialisations

#: The share of converged critical points that must have a negative eigenvalue.
NOT_MINIMUM_SHARE = 0.95
#: Relative error of the Taylor prediction allowed at the smallest steps.
TAYLOR_TOLERANCE = 0.05


def _per_problem(curves: pd.DataFrame) -> dict[str, pd.DataFrame]:
    points = converged_points(curves)
    return {str(p): part for p, part in points.groupby("problem")} if not points.empty else {}


@register_claim(
    "critical_points",
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
    "critical_points",
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
    "critical_points",
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


@register_claim(
    "saddle_escape",
    "saddle_taylor_descent_direction",
    lecture="At a saddle point the Hessian shows the way out: along an eigenvector u of a negative "
    "eigenvalue λ the loss changes by ½λη² < 0.",
)
def saddle_taylor(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Relative error of ½λη² at the two smallest non-zero |η| of the grid, and the sign of the change."""
    taylor = stage_rows(curves, "taylor")
    detail = (
        f"Reproduced if at the smallest steps ±η the loss falls on both sides and the measured change is "
        f"within {TAYLOR_TOLERANCE:.0%} of ½λη²."
    )
    if taylor.empty:
        return ClaimResult("no saddle analysed: make sweep EXP=saddle_escape", None, detail)
    steps = taylor[taylor["eta"] != 0].assign(size=lambda t: t["eta"].abs())
    small = steps[steps["size"] == steps["size"].min()]
    error = ((small["loss_change"] - small["predicted"]).abs() / small["predicted"].abs()).max()
    larger = steps[steps["size"] == steps["size"].max()]
    measured = (
        f"at η = ±{small['size'].iloc[0]:.3g}: change {small['loss_change'].max():.3g} vs ½λη² = "
        f"{small['predicted'].iloc[0]:.3g} (largest relative error {error:.1%}); at η = "
        f"±{larger['size'].iloc[0]:.3g}: "
        f"{larger['loss_change'].min():.3g} … {larger['loss_change'].max():.3g} vs "
        f"{larger['predicted'].iloc[0]:.3g}"
    )
    return ClaimResult(measured, bool((small["loss_change"] < 0).all() and error <= TAYLOR_TOLERANCE), detail)


@register_claim(
    "saddle_escape",
    "saddle_noise_escapes",
    lecture="Gradient descent started exactly at a saddle point stays there (the gradient is zero); with a "
    "little noise it leaves along the negative-curvature direction.",
)
def noise_escapes(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Whether and when exact and noisy GD from the saddle got below its loss by the run's drop."""
    saddle = stage_rows(curves, "saddle")
    detail = (
        "Reproduced if noisy GD's loss falls below the saddle's by the relative drop set in the run "
        "and exact GD's "
        "does not, within the same number of updates."
    )
    if saddle.empty:
        return ClaimResult("no saddle analysed: make sweep EXP=saddle_escape", None, detail)
    point = saddle.iloc[0]

    def when(variant: str) -> str:
        step = point.get(f"{variant}_escape_step")  # an all-empty column is dropped from the table
        return "did not leave" if pd.isna(step) else f"left at update {int(step):,}"

    measured = (
        f"saddle at loss {point['loss']:.4g} (|∇L| {point['grad_norm']:.1e}, λ_min "
        f"{point['min_eigenvalue']:.3g}); "
        f"over {int(point['steps']):,} updates exact GD {when('exact')} (final loss "
        f"{point['exact_final_loss']:.4g}), "
        f"noisy GD {when('noisy')} (final loss {point['noisy_final_loss']:.4g})"
    )
    ok = pd.isna(point.get("exact_escape_step")) and not pd.isna(point.get("noisy_escape_step"))
    return ClaimResult(measured, bool(ok), detail)
