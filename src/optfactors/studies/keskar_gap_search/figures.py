"""Keskar et al. 2017, Table 2: small-batch (SB) vs large-batch (LB) accuracy, measured beside the paper's."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.figures import register_figure
from optfactors.studies.common import (
    BATCH_SIZE,
    ok_runs,
)
from optfactors.studies.keskar_gap_search.tables import (
    search,
    setting_columns,
)


@register_figure("keskar_gap_search")
def search_figure(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Left: the test-accuracy gap SB - LB of every setting the search tried, ± twice its seed standard
    deviation (the claim's bar), hollow where a run stopped at the epoch cap. Right: test accuracy against
    batch size at convergence for the settings tried with several LB sizes (mean and range over seeds).
    A setting with one seed has no spread: its bar is only the point. Candidates that differ only in LB
    and ran with the same epoch cap at the same commit share one curve."""
    table = search(runs, curves)
    table = table[table["seeds"] > 0].reset_index(drop=True)
    fig = Figure(layout="constrained", figsize=(12, 0.45 * max(len(table), 4) + 1.6))
    left, right = fig.subplots(1, 2, width_ratios=[1.5, 1])
    labels = [
        f"{r['candidate']}: LB {r['LB']:,} ({r['seeds']} seed{'s' if r['seeds'] > 1 else ''})"
        for _, r in table.iterrows()
    ]
    y = np.arange(len(table))[::-1]
    for yi, (_, row) in zip(y, table.iterrows(), strict=True):
        color = "#009E73" if row["gap > 2 std"] is True else "#999999"
        left.errorbar(
            row["gap (points)"],
            yi,
            xerr=2 * row["gap std"],
            fmt="o",
            color=color,
            mfc="white" if row["capped runs"] else color,
            capsize=3,
        )
    left.axvline(0, color="black", lw=0.8)
    left.set_yticks(y, labels, fontsize="small")
    left.set_xlabel("test accuracy SB - LB (points), ± 2 std over seeds")
    left.set_title("Every setting tried", loc="left")
    left.text(
        0.99,
        0.01,
        "green: gap > 2 std over ≥ 2 seeds\nhollow: a run stopped at the epoch cap",
        transform=left.transAxes,
        ha="right",
        va="bottom",
        fontsize="small",
        color="0.35",
    )
    ok = ok_runs(runs)
    # Pooled across candidates that differ only in LB, when run with the same epoch cap by the same code
    # (their SB runs are then the same trainings).
    setting = setting_columns(ok).assign(cap=ok["trainer.max_epochs"], commit=ok["git_commit"].str[:40])
    lb_sizes = (
        setting[ok["regime"] == "lb"].groupby([c for c in setting.columns if c != "LB"])["LB"].nunique()
    )
    for i, values in enumerate(lb_sizes[lb_sizes > 1].index):
        named = pd.Series(values, index=lb_sizes.index.names)
        part = ok[(setting.drop(columns="LB") == named).all(axis=1)]
        acc = (100 * part["test_acc"]).groupby(part[BATCH_SIZE]).agg(["mean", "min", "max"])
        color = ("#0072B2", "#D55E00", "#009E73")[i % 3]
        label = (
            f"{named['network']} on {named['train samples']:,} {named['data']} images, "
            f"{named['optimizer']} lr {named['lr']:g}"
        )
        right.plot(acc.index, acc["mean"], "o-", color=color, label=label)
        right.fill_between(acc.index, acc["min"], acc["max"], color=color, alpha=0.2)
    right.set_xscale("log")
    right.set_xlabel("batch size")
    right.set_ylabel("test accuracy (%)")
    right.set_title("Test accuracy at convergence vs batch size", loc="left")
    if right.lines:
        right.legend(fontsize="small")
    fig.suptitle(
        "The generalization-gap search (search seeds; the chosen settings are confirmed in keskar_gap)"
    )
    return fig
