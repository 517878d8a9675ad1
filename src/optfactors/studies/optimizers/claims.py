"""The lecture's optimizer and loss claims on real networks (MNIST MLP, CIFAR-10 C1; MNIST for the loss)."""

from __future__ import annotations

import pandas as pd

from optfactors.report.claims import ClaimResult, register_claim
from optfactors.studies.common import (
    display_name,
)
from optfactors.studies.optimizers.tables import best_runs

ADAPTIVE = ("adagrad", "rmsprop", "adam")


@register_claim(
    "adaptive_lower_training_loss",
    lecture="Adaptive learning rates (Adagrad, RMSProp, Adam) reach a lower training loss than plain SGD in "
    "the same budget.",
    trend="adaptive_margin_grows_with_budget",
)
def adaptive_lower_training_loss(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Per dataset, constant schedule: each optimizer's lowest mean final training loss over the lr grid."""
    best = best_runs(runs, by="train_loss", lowest=True)
    best = best[best["scheduler"] == "constant"].set_index(["dataset", "optimizer"])["train_loss"]
    parts, verdicts = [], []
    for dataset in dict.fromkeys(best.index.get_level_values(0)):
        losses = best.loc[dataset]
        if "sgd" not in losses or not any(a in losses for a in ADAPTIVE):
            continue
        beaten = [a for a in ADAPTIVE if a in losses and losses[a] < losses["sgd"]]
        shown = ", ".join(f"{display_name(a)} {losses[a]:.3g}" for a in ADAPTIVE if a in losses)
        parts.append(
            f"{display_name(dataset)}: SGD {losses['sgd']:.3g} vs {shown} "
            f"({len(beaten)}/{sum(a in losses for a in ADAPTIVE)} below SGD)"
        )
        verdicts.append(len(beaten) == sum(a in losses for a in ADAPTIVE))
    detail = (
        "Final training loss (running mean over the last epoch, mean over seeds) at each optimizer's best "
        "learning rate of the shared grid, constant schedule, same epochs and batch size. Reproduced "
        "if every "
        "adaptive method ends below SGD on every dataset."
    )
    if not verdicts:
        return ClaimResult("no dataset with SGD and an adaptive method", None, detail)
    return ClaimResult("; ".join(parts), all(verdicts), detail)


@register_claim(
    "momentum_decay_close_to_adam",
    lecture="SGD with momentum and a decaying learning rate comes close to Adam.",
    trend="momentum_gap_shrinks_with_budget",
)
def momentum_decay_close_to_adam(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Per dataset: best test accuracy of SGD + momentum with cosine decay vs Adam's best (either
    schedule)."""
    best = best_runs(runs).set_index(["dataset", "optimizer", "scheduler"])
    parts, verdicts = [], []
    for dataset in dict.fromkeys(best.index.get_level_values(0)):
        if (dataset, "momentum", "cosine") not in best.index or (dataset, "adam") not in best.index.droplevel(
            2
        ):
            continue
        momentum = 100 * best.loc[(dataset, "momentum", "cosine"), "test_acc"]
        adam = 100 * best.loc[(dataset, "adam")]["test_acc"].max()
        parts.append(
            f"{display_name(dataset)}: momentum + cosine {momentum:.2f} %, Adam {adam:.2f} % "
            f"(gap {adam - momentum:+.2f} points)"
        )
        verdicts.append(adam - momentum <= 1.0)
    detail = (
        "Test accuracy at the learning rate with the best validation accuracy (mean over seeds); "
        "Adam takes the "
        "better of its two schedules. Reproduced if momentum + decay is at most 1 point below Adam on every "
        "dataset."
    )
    if not verdicts:
        return ClaimResult("no dataset with both SGD + momentum (cosine) and Adam", None, detail)
    return ClaimResult("; ".join(parts), all(verdicts), detail)
