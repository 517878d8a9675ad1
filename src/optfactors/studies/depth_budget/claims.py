"""Budget trend of the residual depth claim: does ResNet-56 catch up with ResNet-20 when both train longer?"""

from __future__ import annotations

import pandas as pd

from optfactors.report.claims import ClaimResult, register_claim
from optfactors.studies.depth_budget.tables import residual_by_budget


@register_claim(
    "residual_depth_gap_shrinks_with_budget",
    lecture="(trend of depth_residual_deeper_trains_as_well) Trained longer, ResNet-56's training loss "
    "closes in on ResNet-20's.",
)
def residual_gap_shrinks(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """ResNet-56's excess training loss over ResNet-20 at the longest budget against the depth study's."""
    detail = (
        "Excess: ResNet-56's final training loss (train_eval_loss, mean over seeds) minus ResNet-20's, per "
        "budget. Trend toward ✓ if the excess at the longest budget is smaller than at the depth study's "
        "(the shortest); the lecture's claim holds where it is at most the larger std."
    )
    table = residual_by_budget(runs)
    if len(table) < 2:
        return ClaimResult(
            "needs ResNet-20 and -56 at two budgets: make sweep EXP=depth_budget", None, detail
        )
    measured = "; ".join(
        f"{int(r.epochs)} epochs: ResNet-20 {r.resnet20:.3g}, ResNet-56 {r.resnet56:.3g} (excess "
        f"{r.excess:+.3f}, {int(r.seeds)} seed{'s' if r.seeds > 1 else ''})"
        for r in table.itertuples(index=False)
    )
    return ClaimResult(measured, bool(table["excess"].iloc[-1] < table["excess"].iloc[0]), detail)
