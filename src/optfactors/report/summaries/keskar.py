"""Keskar et al. 2017's SB vs LB accuracy per network and regime, and runs stopped at the cap."""

from __future__ import annotations

import pandas as pd

from optfactors.report.collect import BATCH_SIZE, ok_runs

REGIMES = ("sb", "lb")


def sb_lb_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per network and regime: train/test accuracy (%) mean and std over seeds, epochs, batch size, seeds."""
    ok = ok_runs(runs)
    keys = [ok["dataset"], ok["model"], ok["regime"]]
    acc = (100 * ok[["train_eval_acc", "test_acc"]]).groupby(keys).agg(["mean", "std"])
    acc.columns = [f"{column}_{stat}" for column, stat in acc.columns]
    grouped = ok.groupby(keys)
    acc["epochs"], acc["seeds"] = grouped["epochs"].mean(), grouped.size()
    acc["batch_size"], acc["train_samples"] = grouped[BATCH_SIZE].first(), grouped["train_samples"].first()
    acc["max_epochs"] = grouped["trainer.max_epochs"].first()
    acc["optimizer"], acc["lr"] = grouped["optimizer"].first(), grouped["optimizer.lr"].first()
    summary = acc.reset_index().rename(columns={"dataset": "data"})
    summary["order"] = summary["regime"].map({r: i for i, r in enumerate(REGIMES)})
    return summary.sort_values(["data", "model", "order"], ascending=[False, True, True]).drop(
        columns="order"
    )


def is_capped(runs: pd.DataFrame) -> pd.Series:
    """Per run: did training stop at the epoch cap (not at the loss target or a plateau)? Records from
    before ``stop_reason`` existed count as capped when they used every epoch allowed."""
    at_cap = runs["epochs"] >= runs["trainer.max_epochs"]
    if "stop_reason" not in runs:
        return at_cap
    return runs["stop_reason"].eq("cap") | (runs["stop_reason"].isna() & at_cap)


def capped_runs(runs: pd.DataFrame) -> pd.Series:
    """How many ok runs of each (dataset, model, regime) stopped at the epoch cap."""
    ok = ok_runs(runs)
    return is_capped(ok).groupby([ok["dataset"], ok["model"], ok["regime"]]).sum()
