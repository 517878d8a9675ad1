"""He et al. 2016: a deeper plain network trains worse, a deeper residual one as well."""

from __future__ import annotations

import pandas as pd

from optfactors.report.claims import ClaimResult, register_claim
from optfactors.studies.depth.tables import NETWORKS, final_train_loss


def _network(table: pd.DataFrame, depth: int, residual: bool) -> pd.Series | None:
    key = (depth, residual)
    return table.loc[key] if key in table.index else None


DEPTH_DETAIL = (
    "Final training loss: the training subset evaluated in eval mode after training (train_eval_loss, over "
    "trainer.limit_test_batches of it: 1,000 of the 4,000 images in the quick profile), mean ± std over "
    "seeds."
)


def _describe(table: pd.DataFrame, depth: int, residual: bool) -> str:
    row = table.loc[(depth, residual)]
    return f"{NETWORKS[(depth, residual)][0]} {row['mean']:.3g} ± {row['std']:.2g}"


@register_claim(
    "depth_plain_deeper_trains_worse",
    lecture="A 56-layer plain network ends with a higher training loss than a 20-layer one, although it can "
    "represent everything the shallower one can: an optimisation issue, not model bias.",
)
def plain_deeper_worse(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Final training loss of plain-56 against plain-20."""
    table = final_train_loss(runs)
    detail = DEPTH_DETAIL + " Reproduced if plain-56's mean exceeds plain-20's by more than the larger std."
    if _network(table, 20, False) is None or _network(table, 56, False) is None:
        return ClaimResult("needs plain networks of depth 20 and 56: make sweep EXP=depth", None, detail)
    shallow, deep = table.loc[(20, False)], table.loc[(56, False)]
    ok = deep["mean"] - shallow["mean"] > max(shallow["std"], deep["std"])
    return ClaimResult(f"{_describe(table, 20, False)}; {_describe(table, 56, False)}", bool(ok), detail)


@register_claim(
    "depth_residual_deeper_trains_as_well",
    lecture="With residual connections the 56-layer network trains at least as well as the 20-layer one.",
    trend="residual_depth_gap_shrinks_with_budget",
)
def residual_deeper_as_well(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Final training loss of ResNet-56 against ResNet-20 (and against plain-56)."""
    table = final_train_loss(runs)
    detail = (
        DEPTH_DETAIL
        + " Reproduced if ResNet-56's mean is at most ResNet-20's plus the larger std, and below "
        "plain-56's."
    )
    needed = [(20, True), (56, True), (56, False)]
    if any(_network(table, *key) is None for key in needed):
        return ClaimResult("needs ResNet-20, ResNet-56 and plain-56: make sweep EXP=depth", None, detail)
    shallow, deep, plain = (table.loc[key] for key in needed)
    ok = deep["mean"] <= shallow["mean"] + max(shallow["std"], deep["std"]) and deep["mean"] < plain["mean"]
    measured = "; ".join(_describe(table, *key) for key in needed)
    return ClaimResult(measured, bool(ok), detail)
