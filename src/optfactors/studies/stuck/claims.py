"""Claims on training at large learning rates: warm-up, BatchNorm, gradient clipping."""

from __future__ import annotations

import pandas as pd

from optfactors.report.claims import ClaimResult, register_claim
from optfactors.studies.common import (
    ok_runs,
)


@register_claim(
    "stuck_is_not_small_gradient",
    lecture="When the training loss stops decreasing, the gradient is not necessarily small: the loss can "
    "plateau while the gradient norm stays far from zero.",
)
def stuck_not_small_gradient(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Per seed: the loss over the last two thirds of the updates vs at one third, and the gradient
    norm there."""
    ok = ok_runs(runs)
    parts, verdicts = [], []
    for seed, key in zip(ok["seed"], ok["run_key"], strict=True):
        curve = curves[curves["run_key"] == key].sort_values("updates")
        third = len(curve) // 3
        start, late = curve.iloc[third], curve.iloc[third:]
        first = curve["train_grad_norm"].iloc[: max(third // 5, 1)].median()
        plateau = late["train_loss"].min() >= 0.5 * start["train_loss"]
        large = late["train_grad_norm"].median() >= first
        parts.append(
            f"seed {seed}: loss {start['train_loss']:.3g} at update {int(start['updates'])}, lowest "
            f"{late['train_loss'].min():.3g} afterwards, last {curve['train_loss'].iloc[-1]:.3g}; "
            "gradient norm "
            f"median {late['train_grad_norm'].median():.3g} on the plateau vs {first:.3g} in the "
            "first updates"
        )
        verdicts.append(bool(plateau and large))
    detail = (
        "Plateau: over the last two thirds of the updates the training loss never gets below half "
        "its value at "
        "one third. Not a small gradient: the median gradient norm there is at least the median of the first "
        "updates' (while the loss was still moving). Reproduced if both hold for every seed."
    )
    if not verdicts:
        return ClaimResult("no ok run", None, detail)
    return ClaimResult("; ".join(parts), all(verdicts), detail)
