"""Claims on critical points: rarely minima, the minimum ratio against the loss, escaping a saddle, and
deeper plain networks training worse (an optimisation issue, not model bias)."""

from __future__ import annotations

import pandas as pd

from optfactors.report.claims import ClaimResult, register_claim
from optfactors.studies.common import (
    stage_rows,
)

#: Relative error of the Taylor prediction allowed at the smallest steps.
TAYLOR_TOLERANCE = 0.05


@register_claim(
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
