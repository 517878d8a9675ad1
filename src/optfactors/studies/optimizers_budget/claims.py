"""Budget trends of the optimizer claims on CIFAR-10: does each claim's quantity move toward the lecture's
result when C1 trains longer than the optimizers study's quick budget? Each a difference of differences
across the shortest and the longest budget, decided by the one rule (optfactors.decision)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optfactors.decision import decide_contrast
from optfactors.report.claims import ClaimResult, Effect, combined, register_claim
from optfactors.studies.common import display_name, mean_std, seeds_mean_std
from optfactors.studies.optimizers.tables import ADAPTIVE, constant_losses, pick, seed_values
from optfactors.studies.optimizers_budget.tables import (
    DATASET,
    best_by_budget,
    momentum_gap_by_budget,
)

STUDY = "optimizers_budget"
#: Difference of differences: (a - b) at the longest budget minus (a - b) at the shortest.
ACROSS_BUDGETS = (1, -1, -1, 1)
PICK = (
    "At each budget every optimizer and schedule runs at the rate of the grid with the best mean validation "
    "accuracy (ties: the lower validation loss)."
)
NEEDS_TWO = "needs CIFAR-10 runs at two budgets: make sweep EXP=optimizers_budget"


@register_claim(
    "adaptive_margin_grows_with_budget",
    lecture="(trend of adaptive_lower_training_loss) Trained longer, the adaptive methods pull ahead of SGD "
    "in training loss on CIFAR-10.",
)
def adaptive_margin_grows(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Per adaptive method A: its margin (SGD's final training loss − A's, constant schedule) at the longest
    budget minus at the shortest (the optimizers study's), one value per seed and group, Welch t; threshold
    0, side above (the margin grows), every method."""
    detail = (
        "Effect per adaptive method A: (SGD − A final training loss) at the longest budget minus the same at "
        "the optimizers study's budget, a difference of differences of four groups of seeds with its Welch "
        f"t-interval; ✓ if every interval lies above 0 (A pulls ahead of SGD). {PICK} The lecture's claim "
        "holds at a budget where the margin itself is > 0."
    )
    losses = {epochs: constant_losses(runs, best, DATASET) for epochs, best in best_by_budget(runs).items()}
    spans = [epochs for epochs, cells in losses.items() if "sgd" in cells]
    if len(spans) < 2:
        return ClaimResult(NEEDS_TWO, None, detail)
    short, long = losses[spans[0]], losses[spans[-1]]
    effects = []
    for name in (a for a in ADAPTIVE if a in short and a in long):
        groups = {
            f"SGD, {spans[-1]} epochs": long["sgd"],
            f"{display_name(name)}, {spans[-1]} epochs": long[name],
            f"SGD, {spans[0]} epochs": short["sgd"],
            f"{display_name(name)}, {spans[0]} epochs": short[name],
        }
        decision = decide_contrast(groups, ACROSS_BUDGETS)
        label = f"SGD − {display_name(name)}: {spans[-1]} − {spans[0]} epochs"
        effects.append(Effect(label, decision, digits=3))
    if not effects:
        return ClaimResult(NEEDS_TWO, None, detail)
    measured = "; ".join(
        f"{epochs} epochs: "
        + ", ".join(f"{display_name(n)} {seeds_mean_std(v, '.3g')}" for n, v in cells.items())
        for epochs, cells in ((spans[0], short), (spans[-1], long))
    )
    return ClaimResult(f"final training loss {measured}", combined(tuple(effects)), detail, tuple(effects))


def _momentum_adam(runs: pd.DataFrame, best: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Test accuracy per seed (points) of Adam and of SGD + momentum + cosine, each picked by validation."""
    adam, momentum = pick(best, DATASET, "adam"), pick(best, DATASET, "momentum", "cosine")
    if adam is None or momentum is None:
        return None
    return seed_values(runs, adam, "test_acc", 100), seed_values(runs, momentum, "test_acc", 100)


@register_claim(
    "momentum_gap_shrinks_with_budget",
    lecture="(trend of momentum_decay_close_to_adam) Trained longer, SGD with momentum and cosine decay "
    "closes in on Adam's test accuracy on CIFAR-10.",
)
def momentum_gap_shrinks(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Adam's lead over SGD + momentum + cosine in test accuracy (points) at the longest budget minus at the
    shortest (the optimizers study's), one value per seed and group, Welch t; threshold 0, side below (the
    lead shrinks)."""
    detail = (
        "Effect: Adam's lead (Adam's test accuracy minus SGD + momentum + cosine's, points) at the longest "
        "budget minus at the optimizers study's, a difference of differences of four groups of seeds with "
        "its Welch t-interval; ✓ if it lies below 0. Adam takes the schedule with the better validation "
        f"accuracy. {PICK} The lecture's claim holds at a budget where the lead is below 1 point."
    )
    pairs = {epochs: _momentum_adam(runs, best) for epochs, best in best_by_budget(runs).items()}
    spans = [epochs for epochs, pair in pairs.items() if pair is not None]
    if len(spans) < 2:
        return ClaimResult(NEEDS_TWO, None, detail)
    (adam_long, momentum_long), (adam_short, momentum_short) = pairs[spans[-1]], pairs[spans[0]]
    groups = {
        f"Adam, {spans[-1]} epochs": adam_long,
        f"momentum + cosine, {spans[-1]} epochs": momentum_long,
        f"Adam, {spans[0]} epochs": adam_short,
        f"momentum + cosine, {spans[0]} epochs": momentum_short,
    }
    decision = decide_contrast(groups, ACROSS_BUDGETS, side="below")
    effect = Effect(f"Adam's lead: {spans[-1]} − {spans[0]} epochs", decision, "points")
    measured = "; ".join(
        f"{int(r.epochs)} epochs: momentum + cosine {mean_std(r.momentum_cosine, r.momentum_cosine_std)} %, "
        f"Adam ({r.adam_schedule}) {mean_std(r.adam, r.adam_std)} % (lead {r.adam_lead:+.2f})"
        for r in momentum_gap_by_budget(runs).itertuples(index=False)
        if r.epochs in (spans[0], spans[-1])
    )
    return ClaimResult(measured, combined((effect,)), detail, (effect,))
