"""The optimizer study's shared tables: the learning rate picked per cell (by validation), mean curves."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optfactors.report.tables import register_table
from optfactors.studies.common import (
    LR,
    display_name,
    ok_runs,
)

OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam")
ADAPTIVE = ("adagrad", "rmsprop", "adam")


def _ranked(table: pd.DataFrame, by: str = "val_acc", lowest: bool = False) -> pd.DataFrame:
    """``table`` best first by mean ``by`` (highest, or lowest with ``lowest``), ties broken by the lower
    mean validation loss (means equal to 12 decimals tie)."""
    key = table.assign(_key=table[by].round(12))
    order = key.sort_values(["_key", "val_loss"], ascending=[lowest, True], kind="stable")
    return order.drop(columns="_key")


def best_runs(runs: pd.DataFrame, by: str = "val_acc", lowest: bool = False) -> pd.DataFrame:
    """Per dataset, optimizer and schedule: the learning rate whose ok runs have the best mean ``by``
    (highest, or lowest with ``lowest``; ties: lower mean validation loss), with that lr's mean train loss,
    validation accuracy and loss, test accuracy, its seeds and their run keys, and how many runs of the cell
    diverged over the whole grid. Claims pick by validation accuracy (the default), never by test."""
    keys = ["dataset", "optimizer", "schedule"]
    ok = ok_runs(runs)
    means = ok.groupby([*keys, LR], as_index=False).agg(
        train_loss=("train_loss", "mean"),
        val_acc=("val_acc", "mean"),
        val_loss=("val_loss", "mean"),
        test_acc=("test_acc", "mean"),
        test_acc_std=("test_acc", "std"),
        seeds=("seed", "nunique"),
        run_keys=("run_key", tuple),
    )
    best = _ranked(means, by, lowest).drop_duplicates(keys).reset_index(drop=True)
    diverged = runs[runs["status"] == "diverged"].groupby(keys).size().rename("diverged_runs")
    best = best.join(diverged, on=keys).fillna({"diverged_runs": 0})
    return best.rename(columns={"schedule": "scheduler", LR: "lr"})


def pick(best: pd.DataFrame, dataset: str, optimizer: str, scheduler: str | None = None) -> pd.Series | None:
    """The row of :func:`best_runs` of ``optimizer`` on ``dataset`` (with ``scheduler``, or the schedule
    with the best validation accuracy), None if there is none."""
    rows = best[(best["dataset"] == dataset) & (best["optimizer"] == optimizer)]
    if scheduler is not None:
        rows = rows[rows["scheduler"] == scheduler]
    return _ranked(rows).iloc[0] if len(rows) else None


def seed_values(runs: pd.DataFrame, cell: pd.Series, column: str, scale: float = 1.0) -> np.ndarray:
    """``scale`` times ``column`` of each seed of a picked cell (a row of :func:`best_runs`), one value per
    ok run, runs without a value left out."""
    values = runs.loc[runs["run_key"].isin(cell["run_keys"]), column].dropna()
    return scale * values.to_numpy(dtype=float)


def constant_losses(runs: pd.DataFrame, best: pd.DataFrame, dataset: str) -> dict[str, np.ndarray]:
    """Final training loss of each seed of SGD and of each adaptive method on ``dataset``, constant schedule,
    at its picked rate (``best``: :func:`best_runs` of ``runs``); optimizers without runs left out."""
    constant = best[best["scheduler"] == "constant"]
    cells = {name: pick(constant, dataset, name) for name in ("sgd", *ADAPTIVE)}
    return {name: seed_values(runs, cell, "train_loss") for name, cell in cells.items() if cell is not None}


def mean_curve(curves: pd.DataFrame, keys: pd.Series, column: str) -> pd.Series:
    """Mean over the runs in ``keys`` of ``column`` per epoch."""
    part = curves[curves["run_key"].isin(keys)]
    return part.groupby("epoch")[column].mean()


@register_table("best")
def best_table(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Per dataset, optimizer and schedule, the learning rate of the grid with the best mean validation
    accuracy, and at it: final training loss, validation and test accuracy (mean ± std over seeds)."""
    best = best_runs(runs)
    rows = []
    for r in best.itertuples(index=False):
        rows.append(
            {
                "data": display_name(r.dataset),
                "optimizer": display_name(r.optimizer),
                "schedule": r.scheduler,
                "best lr": r.lr,
                "train loss": round(r.train_loss, 4),
                "val acc. (%)": round(100 * r.val_acc, 2),
                "test acc. (%)": f"{100 * r.test_acc:.2f} ± {100 * np.nan_to_num(r.test_acc_std):.2f}",
                "seeds": int(r.seeds),
                "diverged runs (grid)": int(r.diverged_runs),
            }
        )
    return pd.DataFrame(rows)
