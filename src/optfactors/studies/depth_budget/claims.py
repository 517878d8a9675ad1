"""Budget trend of the residual depth claim: does ResNet-56 catch up with ResNet-20 when both train longer?
A difference of differences across the shortest and the longest budget, decided by the one rule."""

from __future__ import annotations

import pandas as pd

from optfactors.decision import decide_contrast
from optfactors.report.claims import ClaimResult, Effect, combined, register_claim
from optfactors.studies.depth_budget.tables import residual_by_budget, residual_losses

#: Difference of differences: (ResNet-56 − ResNet-20) at the longest budget minus at the shortest.
ACROSS_BUDGETS = (1, -1, -1, 1)


@register_claim(
    "residual_depth_gap_shrinks_with_budget",
    lecture="(trend of depth_residual_deeper_trains_as_well) Trained longer, ResNet-56's training loss "
    "closes in on ResNet-20's.",
)
def residual_gap_shrinks(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """ResNet-56's excess final training loss over ResNet-20 at the longest budget minus at the shortest (the
    depth study's), one value per seed and group, Welch t; threshold 0, side below (the excess shrinks)."""
    detail = (
        "Effect: the excess (ResNet-56's final training loss, train_eval_loss, minus ResNet-20's) at the "
        "longest budget minus at the depth study's (the shortest), a difference of differences of four "
        "groups of seeds with its Welch t-interval; ✓ if it lies below 0. A budget with one seed per network "
        "gives no interval (—). The lecture's claim holds at a budget where the excess itself is below 0."
    )
    table = residual_by_budget(runs)
    if len(table) < 2:
        return ClaimResult(
            "needs ResNet-20 and -56 at two budgets: make sweep EXP=depth_budget", None, detail
        )
    short, long = int(table["epochs"].iloc[0]), int(table["epochs"].iloc[-1])
    groups = {
        f"ResNet-{depth}, {epochs} epochs": residual_losses(runs, epochs, depth)
        for epochs in (long, short)
        for depth in (56, 20)
    }
    decision = decide_contrast(groups, ACROSS_BUDGETS, side="below")
    effect = Effect(f"ResNet-56 − ResNet-20: {long} − {short} epochs", decision, digits=3)
    measured = "; ".join(
        f"{int(r.epochs)} epochs: ResNet-20 {r.resnet20:.3g}, ResNet-56 {r.resnet56:.3g} (excess "
        f"{r.excess:+.3f}, {int(r.seeds)} seed{'s' if r.seeds > 1 else ''})"
        for r in table.itertuples(index=False)
    )
    if decision.verdict is None:
        measured += f"; {decision.reason}"
    return ClaimResult(measured, combined((effect,)), detail, (effect,))
