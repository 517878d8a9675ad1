"""The budget trend of the optimizer claims on CIFAR-10: each claim's quantity at the optimizers study's
budget and at optimizers_budget's longer one (the training loss also at every epoch of the longer runs)."""

from __future__ import annotations

import pandas as pd

from optfactors.report.tables import register_table
from optfactors.studies.common import (
    LR,
    display_name,
    mean_std,
    ok_runs,
)
from optfactors.studies.optimizers.tables import ADAPTIVE, best_runs, pick

EPOCHS = "trainer.max_epochs"


DATASET = "cifar10"


def _cifar(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[runs["dataset"] == DATASET]


def budgets(runs: pd.DataFrame) -> list[int]:
    """The training budgets (epochs) of the CIFAR-10 runs, shortest first: the claim's, then the longer."""
    return sorted(int(e) for e in _cifar(runs)[EPOCHS].dropna().unique())


def adaptive_margin_by_epoch(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Per epoch of the longest constant-schedule CIFAR-10 runs: each optimizer's training loss (running mean
    over the epoch, mean over seeds) at the rate of the grid lowest at that epoch, and the worst adaptive
    margin min over Adagrad, RMSProp, Adam of (SGD − it): > 0 when every adaptive method is below SGD."""
    ok = _cifar(ok_runs(runs))
    ok = ok[(ok["schedule"] == "constant") & (ok[EPOCHS] == ok[EPOCHS].max())]
    rows = curves.merge(ok[["run_key", "optimizer", LR]], on="run_key")
    by_rate = rows.groupby(["optimizer", LR, "epoch"])["train_loss"].mean()
    losses = by_rate.groupby(["optimizer", "epoch"]).min().unstack("optimizer")
    losses.index = losses.index + 1
    losses.index.name = "epoch"
    present = [a for a in ADAPTIVE if a in losses]
    if "sgd" in losses and present:
        losses["worst_margin"] = losses["sgd"] - losses[present].max(axis=1)
    return losses.reset_index()


def best_by_budget(runs: pd.DataFrame) -> dict[int, pd.DataFrame]:
    """Per CIFAR-10 budget (epochs, shortest first): :func:`best_runs` of its runs (rates picked by
    validation accuracy)."""
    cifar = _cifar(runs)
    return {epochs: best_runs(cifar[cifar[EPOCHS] == epochs]) for epochs in budgets(runs)}


def momentum_gap_by_budget(runs: pd.DataFrame) -> pd.DataFrame:
    """Per CIFAR-10 budget: test accuracy (mean over seeds, at the rate with the best validation accuracy) of
    SGD + momentum with cosine decay and of Adam (the schedule with the better validation accuracy), and
    Adam's lead in points."""
    rows = []
    for epochs, best in best_by_budget(runs).items():
        momentum, adam = pick(best, DATASET, "momentum", "cosine"), pick(best, DATASET, "adam")
        if momentum is None or adam is None:
            continue
        rows.append(
            {
                "epochs": epochs,
                "momentum_cosine": 100 * momentum["test_acc"],
                "momentum_cosine_std": 100 * momentum["test_acc_std"],
                "adam": 100 * adam["test_acc"],
                "adam_std": 100 * adam["test_acc_std"],
                "adam_schedule": adam["scheduler"],
                "adam_lead": 100 * (adam["test_acc"] - momentum["test_acc"]),
            }
        )
    return pd.DataFrame(rows)


@register_table("adaptive_trend")
def adaptive_trend(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Per epoch of the longest constant-schedule CIFAR-10 runs, each optimizer's training loss at its
    lowest rate of the grid at that epoch (mean over seeds), and the worst adaptive margin (SGD − adaptive;
    > 0: every adaptive method below SGD)."""
    table = adaptive_margin_by_epoch(runs, curves)
    names = {name: display_name(name) for name in ("sgd", *ADAPTIVE)} | {"worst_margin": "worst margin"}
    return table.rename(columns=names).round(4)


@register_table("momentum_trend")
def momentum_trend(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Per budget, CIFAR-10 test accuracy of SGD + momentum with cosine decay and of Adam (the schedule with
    the better validation accuracy), each at the rate with the best validation accuracy (mean ± std over
    seeds), and Adam's lead."""
    table = momentum_gap_by_budget(runs)
    momentum = map(mean_std, table["momentum_cosine"], table["momentum_cosine_std"])
    return pd.DataFrame(
        {
            "epochs": table["epochs"],
            "SGD+momentum, cosine (%)": list(momentum),
            "Adam (%)": list(map(mean_std, table["adam"], table["adam_std"])),
            "Adam's schedule": table["adam_schedule"],
            "Adam's lead (points)": table["adam_lead"].round(2),
        }
    )
