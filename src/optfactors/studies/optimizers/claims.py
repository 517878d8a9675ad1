"""The lecture's optimizer claims on real networks (MNIST MLP, CIFAR-10 C1), each decided by the one rule
(optfactors.decision) over seeds at the learning rate picked by validation accuracy."""

from __future__ import annotations

import pandas as pd

from optfactors.decision import decide_contrast
from optfactors.report.claims import ClaimResult, Effect, combined, register_claim
from optfactors.studies.common import display_name, seeds_mean_std
from optfactors.studies.optimizers.tables import ADAPTIVE, best_runs, constant_losses, pick, seed_values

PICK = (
    "Each optimizer and schedule at the learning rate of the shared grid with the best mean validation "
    "accuracy (ties: the lower validation loss); the test split is never used to pick."
)


@register_claim(
    "adaptive_lower_training_loss",
    lecture="Adaptive learning rates (Adagrad, RMSProp, Adam) reach a lower training loss than plain SGD in "
    "the same budget.",
    trend="adaptive_margin_grows_with_budget",
)
def adaptive_lower_training_loss(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Per dataset and adaptive method A, constant schedule: SGD's final training loss minus A's (one value
    per seed, each at its picked learning rate), Welch t; threshold 0, side above (A lower), every effect."""
    best = best_runs(runs)
    effects, parts = [], []
    for dataset in dict.fromkeys(best["dataset"]):
        losses = constant_losses(runs, best, dataset)
        found = [a for a in ADAPTIVE if a in losses]
        if "sgd" not in losses or not found:
            continue
        for a in found:
            decision = decide_contrast({"SGD": losses["sgd"], display_name(a): losses[a]})
            effects.append(Effect(f"SGD − {display_name(a)} ({display_name(dataset)})", decision, digits=3))
        shown = ", ".join(f"{display_name(a)} {seeds_mean_std(losses[a], '.3g')}" for a in found)
        parts.append(f"{display_name(dataset)}: SGD {seeds_mean_std(losses['sgd'], '.3g')} vs {shown}")
    detail = (
        "Effect: SGD's final training loss (running mean over the last epoch) minus each adaptive method's, "
        "constant schedule, same epochs and batch size, per dataset; Welch t-interval over seeds; ✓ if every "
        f"interval lies above 0. {PICK}"
    )
    if not effects:
        return ClaimResult("no dataset with SGD and an adaptive method", None, detail)
    return ClaimResult("; ".join(parts), combined(tuple(effects)), detail, tuple(effects))


@register_claim(
    "momentum_decay_close_to_adam",
    lecture="SGD with momentum and a decaying learning rate comes close to Adam.",
    trend="momentum_gap_shrinks_with_budget",
)
def momentum_decay_close_to_adam(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Per dataset: Adam's test accuracy minus SGD + momentum with cosine decay's, in points (one value per
    seed; Adam's schedule and both learning rates picked by validation accuracy), Welch t; threshold 1 point,
    side below (momentum + decay at most 1 point behind Adam), every dataset."""
    best = best_runs(runs)
    effects, parts = [], []
    for dataset in dict.fromkeys(best["dataset"]):
        momentum, adam = pick(best, dataset, "momentum", "cosine"), pick(best, dataset, "adam")
        if momentum is None or adam is None:
            continue
        adam_acc, momentum_acc = (seed_values(runs, cell, "test_acc", 100) for cell in (adam, momentum))
        groups = {"Adam": adam_acc, "momentum + cosine": momentum_acc}
        decision = decide_contrast(groups, threshold=1.0, side="below")
        effects.append(Effect(f"Adam − momentum + cosine ({display_name(dataset)})", decision, "points"))
        parts.append(
            f"{display_name(dataset)}: momentum + cosine {seeds_mean_std(momentum_acc)} %, Adam "
            f"({adam['scheduler']}) {seeds_mean_std(adam_acc)} % (gap {decision.effect:+.2f} points)"
        )
    detail = (
        "Effect: Adam's test accuracy minus SGD + momentum + cosine decay's, in points, per dataset; Welch "
        "t-interval over seeds; ✓ if every interval lies below 1 point (momentum + decay at most 1 point "
        f"behind). Adam takes the schedule with the better validation accuracy. {PICK}"
    )
    if not effects:
        return ClaimResult("no dataset with both SGD + momentum (cosine) and Adam", None, detail)
    return ClaimResult("; ".join(parts), combined(tuple(effects)), detail, tuple(effects))
