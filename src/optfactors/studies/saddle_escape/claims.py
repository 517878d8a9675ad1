"""Claims on leaving a saddle point: the Hessian's Taylor prediction and gradient descent with and without
noise. Each number is one computation from the saddle found (no seeds of a training to spread over), so its
decision under the one rule (optfactors.decision) has a degenerate, exact interval."""

from __future__ import annotations

import pandas as pd

from optfactors.decision import decide_exact
from optfactors.report.claims import ClaimResult, Effect, combined, register_claim
from optfactors.studies.common import stage_rows

#: Relative error of the Taylor prediction allowed at the smallest steps: measured / predicted within 1 ± it.
TAYLOR_TOLERANCE = 0.05
MISSING = "no saddle analysed: make sweep EXP=saddle_escape"


@register_claim(
    "saddle_taylor_descent_direction",
    lecture="At a saddle point the Hessian shows the way out: along an eigenvector u of a negative "
    "eigenvalue λ the loss changes by ½λη² < 0.",
)
def saddle_taylor(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Effect at each of the two smallest steps ±η: the measured loss change over ½λη² (λ < 0), exact; ✓ if
    both lie within 1 ± 5 %, which also makes the loss fall on both sides."""
    taylor = stage_rows(curves, "taylor")
    detail = (
        "Effect at the smallest steps +η and -η of the grid: the measured loss change L(θ + ηu) - L(θ) over "
        f"½λη², one exact computation each; reproduced if both lie within 1 ± {TAYLOR_TOLERANCE:g} (the loss "
        f"falls on both sides, within {TAYLOR_TOLERANCE:.0%} of the prediction)."
    )
    if taylor.empty:
        return ClaimResult(MISSING, None, detail)
    steps = taylor[taylor["eta"] != 0].assign(size=lambda t: t["eta"].abs())
    small = steps[steps["size"] == steps["size"].min()].sort_values("eta")
    band = (1 - TAYLOR_TOLERANCE, 1 + TAYLOR_TOLERANCE)
    effects = tuple(
        Effect(
            f"η = {r.eta:+.3g}",
            decide_exact(r.loss_change / r.predicted, band, "within"),
            "x",
            3,
            signed=False,
        )
        for r in small.itertuples(index=False)
    )
    error = ((small["loss_change"] - small["predicted"]).abs() / small["predicted"].abs()).max()
    larger = steps[steps["size"] == steps["size"].max()]
    measured = (
        f"at η = ±{small['size'].iloc[0]:.3g}: change {small['loss_change'].max():.3g} vs ½λη² = "
        f"{small['predicted'].iloc[0]:.3g} (largest relative error {error:.1%}); at η = "
        f"±{larger['size'].iloc[0]:.3g}: {larger['loss_change'].min():.3g} … "
        f"{larger['loss_change'].max():.3g} vs {larger['predicted'].iloc[0]:.3g}"
    )
    return ClaimResult(measured, combined(effects), detail, effects)


def _drop(point: pd.Series, variant: str) -> float:
    """How far (relative) ``variant`` GD's final loss lies below the saddle's."""
    return float((point["loss"] - point[f"{variant}_final_loss"]) / point["loss"])


@register_claim(
    "saddle_noise_escapes",
    lecture="Gradient descent started exactly at a saddle point stays there (the gradient is zero); with a "
    "little noise it leaves along the negative-curvature direction.",
)
def noise_escapes(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Effects: how far (relative) the final loss of exact and of noisy GD from the saddle lies below the
    saddle's after the same updates; ✓ if exact GD's is below the run's drop (it stays) and noisy GD's above
    it (it left). Exact GD is deterministic; noisy GD is one draw of its noise (the run's seed), decided as a
    computation as well: once a component along u exists it grows by 1 + lr |λ| per update, so the draw sets
    when GD leaves, hardly whether."""
    saddle = stage_rows(curves, "saddle")
    detail = (
        "Effects: the relative drop of the final loss below the saddle's after the same number of updates, "
        "for exact GD and for GD with Gaussian noise; reproduced if exact GD's lies below the drop that "
        "defines leaving (saddle.descent.drop) and noisy GD's above it. Each is one computation (noisy GD: "
        "one draw of its noise, the run's seed), decided without an interval over seeds."
    )
    if saddle.empty or "saddle.descent.drop" not in runs:
        return ClaimResult(MISSING, None, detail)
    point, drop = saddle.iloc[0], 100 * float(runs["saddle.descent.drop"].iloc[0])
    effects = (
        Effect("exact GD", decide_exact(100 * _drop(point, "exact"), drop, "below"), "%", 3),
        Effect("noisy GD", decide_exact(100 * _drop(point, "noisy"), drop, "above"), "%", 3),
    )

    def when(variant: str) -> str:
        step = point.get(f"{variant}_escape_step")  # an all-empty column is dropped from the table
        return "did not leave" if pd.isna(step) else f"left at update {int(step):,}"

    measured = (
        f"saddle at loss {point['loss']:.4g} (|∇L| {point['grad_norm']:.1e}, λ_min "
        f"{point['min_eigenvalue']:.3g}); over {int(point['steps']):,} updates exact GD {when('exact')} "
        f"(final loss {point['exact_final_loss']:.4g}), noisy GD {when('noisy')} (final loss "
        f"{point['noisy_final_loss']:.4g})"
    )
    return ClaimResult(measured, combined(effects), detail, effects)
