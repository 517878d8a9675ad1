"""Keskar et al. 2017, Table 2: small-batch (SB) vs large-batch (LB) accuracy, measured beside the paper's."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.figures import register_figure
from optfactors.studies.common import (
    display_name,
    seed_std,
)
from optfactors.studies.keskar_gap.tables import PAPER, REGIMES, sb_lb_summary


@register_figure("keskar_gap")
def keskar_gap(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Train and test accuracy of SB and LB per network, the paper's values as black ticks."""
    summary = sb_lb_summary(runs)
    networks = list(dict.fromkeys(summary["model"]))
    fig = Figure(layout="constrained", figsize=(4.2 * max(len(networks), 1) + 1.2, 4.2))
    axes = fig.subplots(1, max(len(networks), 1), squeeze=False)[0]
    for ax, model in zip(axes, networks, strict=False):
        rows = summary[summary["model"] == model].set_index("regime")
        for i, column in enumerate(("train_eval_acc", "test_acc")):
            for j, regime in enumerate(r for r in REGIMES if r in rows.index):
                x = i * 2.6 + j
                row = rows.loc[regime]
                ax.bar(
                    x,
                    row[f"{column}_mean"],
                    yerr=seed_std(row[f"{column}_std"]),
                    capsize=3,
                    color=("#0072B2", "#D55E00")[j],
                    label=regime.upper() if i == 0 else None,
                )
                paper = PAPER.get((model, regime))
                if paper:
                    ax.hlines(
                        paper[i],
                        x - 0.4,
                        x + 0.4,
                        color="black",
                        linewidth=2,
                        label="paper (Adam)" if (i, j) == (0, 0) else None,
                    )
        low = float(np.nanmin(summary[summary["model"] == model][["train_eval_acc_mean", "test_acc_mean"]]))
        ax.set_ylim(max(0.0, low - 10), 100.5)
        ax.set_xticks([0.5, 3.1], ["train", "test"])
        data = rows["data"].iloc[0]
        optimizer = f"{display_name(rows['optimizer'].iloc[0])} {rows['lr'].iloc[0]:g}"
        title = f"{display_name(model)} on {display_name(data)}, {optimizer}"
        ax.set_title(title, loc="left", fontsize="medium")
        ax.set_ylabel("accuracy (%)")
        ax.grid(axis="x", visible=False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper")
    fig.suptitle("Keskar et al. Table 2: small (SB) vs large (LB) batch, train and test accuracy")
    fig.supxlabel(
        "SB and LB with the same optimizer and learning rate (in each title), until the training loss "
        "reaches its target or stops improving; mean ± std over seeds.\n"
        "Black ticks: the paper's values (full data sets; the quick profile trains on subsets, see the "
        "table).",
        x=0.0,
        ha="left",
        fontsize=8.5,
        color="0.35",
    )
    return fig
