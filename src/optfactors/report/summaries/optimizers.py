"""The optimizer study's shared tables: the best learning rate per cell, mean curves."""

from __future__ import annotations

import pandas as pd

from optfactors.report.collect import ok_runs

OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam")


LR = "optimizer.lr"


def best_runs(runs: pd.DataFrame, by: str = "val_acc", lowest: bool = False) -> pd.DataFrame:
    """Per dataset, optimizer and schedule: the learning rate whose ok runs have the best mean ``by``
    (highest, or lowest with ``lowest``), with that lr's mean train loss, validation and test accuracy, its
    seeds, and how many runs of the cell diverged over the whole grid."""
    keys = ["dataset", "optimizer", "schedule"]
    ok = ok_runs(runs)
    means = ok.groupby([*keys, LR], as_index=False).agg(
        train_loss=("train_loss", "mean"),
        val_acc=("val_acc", "mean"),
        test_acc=("test_acc", "mean"),
        test_acc_std=("test_acc", "std"),
        seeds=("seed", "nunique"),
    )
    order = means.sort_values(by, ascending=lowest)
    best = order.drop_duplicates(keys).reset_index(drop=True)
    diverged = runs[runs["status"] == "diverged"].groupby(keys).size().rename("diverged_runs")
    best = best.join(diverged, on=keys).fillna({"diverged_runs": 0})
    return best.rename(columns={"schedule": "scheduler", LR: "lr"})


def mean_curve(curves: pd.DataFrame, keys: pd.Series, column: str) -> pd.Series:
    """Mean over the runs in ``keys`` of ``column`` per epoch."""
    part = curves[curves["run_key"].isin(keys)]
    return part.groupby("epoch")[column].mean()
