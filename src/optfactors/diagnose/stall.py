"""Did a training curve stall, and with a large or a vanishing gradient? The lecture: a loss that stops
falling is not necessarily at a critical point; the gradient norm tells."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

#: Stalled: the median training loss over the last quarter of the curve is at least this fraction of the
#: median over the quarter around its middle (under 5 % progress in the whole second half).
STALL = 0.95
#: A vanishing gradient (a critical point): on a stalled curve, the median gradient norm over the second
#: half is below this fraction of the median over the first tenth (while the loss was still moving). At or
#: above it the loss stalls with the gradient far from zero: not a critical point.
SMALL_GRADIENT = 0.1
#: Curves with fewer points (epochs; updates for full-batch runs) are too short to call stalled.
MIN_POINTS = 8


@dataclass(frozen=True)
class Stall:
    """A training curve whose loss stalled: the evidence, and the gradient-norm ratio if recorded."""

    evidence: tuple[str, ...]
    gradient_ratio: float | None


def stall(curve: pd.DataFrame) -> Stall | None:
    """How the training loss of a curve stalled (None if it did not, or the curve is too short)."""
    curve = curve.dropna(subset=["train_loss"]).sort_values("updates")
    n = len(curve)
    if n < MIN_POINTS:
        return None
    q = n // 4
    middle, last = curve.iloc[n // 2 - q // 2 :][:q], curve.iloc[-q:]
    mid_loss, end_loss = middle["train_loss"].median(), last["train_loss"].median()
    if end_loss < STALL * mid_loss:
        return None
    stalled = (
        f"the training loss stalled: median {end_loss:.3g} over the last {q} of {n} points (from update "
        f"{int(last['updates'].iloc[0])}) vs {mid_loss:.3g} over {q} around the middle (from update "
        f"{int(middle['updates'].iloc[0])})"
    )
    norms = curve["train_grad_norm"] if "train_grad_norm" in curve.columns else pd.Series(dtype=float)
    if norms.notna().sum() < MIN_POINTS:
        return Stall(
            (
                stalled,
                "its gradient norm was not recorded: track_grad_norm=true tells a critical point "
                f"from a stuck optimizer ({int(norms.notna().sum())} of {n} points have one)",
            ),
            None,
        )
    early, late = norms.iloc[: max(1, n // 10)].median(), norms.iloc[n // 2 :].median()
    gradient = (
        f"gradient norm: median {late:.3g} over the second half vs {early:.3g} over the first tenth "
        f"({late / early:.2g}x; below {SMALL_GRADIENT:g}x would be a vanishing gradient)"
    )
    return Stall((stalled, gradient), late / early)
