"""He et al. 2016: a deeper plain network trains worse, a deeper residual one as well; each decided by the
one rule (optfactors.decision) on the final training loss, one value per seed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optfactors.decision import decide_contrast
from optfactors.report.claims import ClaimResult, Effect, combined, register_claim
from optfactors.studies.common import seeds_mean_std
from optfactors.studies.depth.tables import NETWORKS, final_train_loss

DEPTH_DETAIL = (
    "Final training loss: the training subset evaluated in eval mode after training (train_eval_loss, over "
    "trainer.limit_test_batches of it: 1,000 of the 4,000 images in the quick profile), one value per seed."
)


def _name(key: tuple[int, bool]) -> str:
    return NETWORKS[key][0]


def _describe(losses: dict[tuple[int, bool], np.ndarray], keys: list[tuple[int, bool]]) -> str:
    return "; ".join(f"{_name(key)} {seeds_mean_std(losses[key], '.3g')}" for key in keys)


def _excess(
    losses: dict[tuple[int, bool], np.ndarray], deep: tuple[int, bool], other: tuple[int, bool]
) -> Effect:
    """``deep``'s final training loss minus ``other``'s with its Welch t-interval; ✓ below 0."""
    decision = decide_contrast({_name(deep): losses[deep], _name(other): losses[other]}, side="below")
    return Effect(f"{_name(deep)} − {_name(other)}", decision, digits=3)


@register_claim(
    "depth_plain_deeper_trains_worse",
    lecture="A 56-layer plain network ends with a higher training loss than a 20-layer one, although it can "
    "represent everything the shallower one can: an optimisation issue, not model bias.",
)
def plain_deeper_worse(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Plain-56's final training loss minus plain-20's, Welch t; threshold 0, side above (plain-56 higher)."""
    losses = final_train_loss(runs)
    detail = f"{DEPTH_DETAIL} Effect: plain-56 − plain-20, Welch t-interval over seeds; ✓ if it lies above 0."
    needed = [(20, False), (56, False)]
    if any(key not in losses for key in needed):
        return ClaimResult("needs plain networks of depth 20 and 56: make sweep EXP=depth", None, detail)
    decision = decide_contrast({_name(key): losses[key] for key in reversed(needed)})
    effect = Effect("plain-56 − plain-20", decision, digits=3)
    return ClaimResult(_describe(losses, needed), combined((effect,)), detail, (effect,))


@register_claim(
    "depth_residual_deeper_trains_as_well",
    lecture="With residual connections the 56-layer network trains at least as well as the 20-layer one.",
    trend="residual_depth_gap_shrinks_with_budget",
)
def residual_deeper_as_well(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """ResNet-56's final training loss minus ResNet-20's, and minus plain-56's, Welch t; threshold 0, side
    below (as He et al. find: the deeper residual network trains lower, and lower than its plain twin)."""
    losses = final_train_loss(runs)
    detail = (
        f"{DEPTH_DETAIL} Effects: ResNet-56 − ResNet-20 and ResNet-56 − plain-56, Welch t-intervals over "
        "seeds; ✓ if both lie below 0, ✗ if either lies above (no margin: a difference the seeds cannot "
        "resolve stays —)."
    )
    needed = [(20, True), (56, True), (56, False)]
    if any(key not in losses for key in needed):
        return ClaimResult("needs ResNet-20, ResNet-56 and plain-56: make sweep EXP=depth", None, detail)
    effects = (_excess(losses, (56, True), (20, True)), _excess(losses, (56, True), (56, False)))
    return ClaimResult(_describe(losses, needed), combined(effects), detail, effects)
