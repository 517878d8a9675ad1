"""Keskar et al. 2017's SB vs LB accuracy per network and regime, and runs stopped at the cap."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optfactors.report.tables import register_table
from optfactors.studies.common import (
    BATCH_SIZE,
    display_name,
    ok_runs,
    seed_std,
)

#: Table 2 of Keskar et al. (2017): (network, regime) -> (train accuracy %, test accuracy %).
PAPER = {
    ("keskar_f1", "sb"): (99.66, 98.03),
    ("keskar_f1", "lb"): (99.92, 97.81),
    ("keskar_c1", "sb"): (99.89, 80.04),
    ("keskar_c1", "lb"): (99.66, 77.26),
    ("keskar_c2", "sb"): (99.99, 89.24),
    ("keskar_c2", "lb"): (99.99, 87.26),
}


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


@dataclass(frozen=True)
class Network:
    """One network's ok runs (one per seed) of each regime, and how many of them stopped at the epoch cap."""

    label: str
    runs: dict[str, pd.DataFrame]
    capped: int

    def percent(self, column: str) -> dict[str, pd.Series]:
        """Per regime ("SB", "LB"): ``column`` of each seed's run in percent, seeds without one left out."""
        return {regime.upper(): 100 * self.runs[regime][column].dropna() for regime in REGIMES}


def networks(runs: pd.DataFrame) -> list[Network]:
    """A :class:`Network` for every (dataset, model) with ok runs of both regimes, in Table 2's order."""
    ok = ok_runs(runs)
    found = []
    for data, model in sb_lb_summary(runs)[["data", "model"]].drop_duplicates().itertuples(index=False):
        group = ok[(ok["dataset"] == data) & (ok["model"] == model)]
        by_regime = {regime: group[group["regime"] == regime] for regime in REGIMES}
        if all(len(frame) for frame in by_regime.values()):
            label = f"{display_name(model)} ({display_name(data)})"
            found.append(Network(label, by_regime, int(is_capped(group).sum())))
    return found


@register_table("table2")
def table2(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Keskar's Table 2 layout: measured train and test accuracy (mean ± std over seeds) beside the paper's,
    with the optimizer, training-set size, batch size, epochs, epoch cap and how many runs stopped at it.
    The paper: Adam, whole training sets, SB 256, LB 10 %, until the training loss stops improving; the
    quick profile uses the settings its search chose (keskar_gap_search): F1 on all of MNIST with plain
    SGD at a fixed rate 0.1, LB 2,048, a narrow C1 on 10,000 CIFAR-10 images with Adam, LB 1,000
    (10 %), SB 64, until the training loss reaches 0.01 or stops improving; BatchNorm is evaluated with
    batch statistics (bn_eval=batch, as the authors' code)."""
    rows = []
    capped = capped_runs(runs)
    for r in sb_lb_summary(runs).itertuples(index=False):
        paper_train, paper_test = PAPER.get((r.model, r.regime), (np.nan, np.nan))
        rows.append(
            {
                "network": f"{display_name(r.model)} ({display_name(r.data)})",
                "optimizer": f"{display_name(r.optimizer)} {r.lr:g}",
                "regime": r.regime.upper(),
                "train samples": int(r.train_samples),
                "batch size": int(r.batch_size),
                "train acc. (%)": f"{r.train_eval_acc_mean:.2f} ± {seed_std(r.train_eval_acc_std):.2f}",
                "paper train (%)": paper_train,
                "test acc. (%)": f"{r.test_acc_mean:.2f} ± {seed_std(r.test_acc_std):.2f}",
                "paper test (%)": paper_test,
                "epochs (mean)": round(r.epochs, 1),
                "epoch cap": int(r.max_epochs),
                "runs at the cap": int(capped.get((r.data, r.model, r.regime), 0)),
                "seeds": int(r.seeds),
            }
        )
    return pd.DataFrame(rows)
