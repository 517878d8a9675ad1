"""Keskar et al. 2017, Table 2: small-batch (SB) vs large-batch (LB) accuracy, measured beside the paper's."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from optfactors.figures import register_figure, register_table
from optfactors.figures.style import display_name
from optfactors.results import BATCH_SIZE, ok_runs

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
    summary = acc.reset_index().rename(columns={"dataset": "data"})
    summary["order"] = summary["regime"].map({r: i for i, r in enumerate(REGIMES)})
    return summary.sort_values(["data", "model", "order"], ascending=[False, True, True]).drop(
        columns="order"
    )


@register_table("table2", "keskar_gap")
def table2(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Keskar's Table 2 layout: measured train and test accuracy (mean ± std over seeds) beside the paper's,
    with the training-set size, batch size and epoch cap used. The paper: whole training sets, SB 256, LB
    10 %, until the training loss stops improving; the quick profile shrinks the data, the seeds and SB (LB
    stays 10 %); BatchNorm is evaluated with batch statistics (bn_eval=batch, as the authors' code)."""
    rows = []
    for r in sb_lb_summary(runs).itertuples(index=False):
        paper_train, paper_test = PAPER.get((r.model, r.regime), (np.nan, np.nan))
        rows.append(
            {
                "network": f"{display_name(r.model)} ({display_name(r.data)})",
                "regime": r.regime.upper(),
                "train samples": int(r.train_samples),
                "batch size": int(r.batch_size),
                "train acc. (%)": f"{r.train_eval_acc_mean:.2f} ± {_std(r.train_eval_acc_std):.2f}",
                "paper train (%)": paper_train,
                "test acc. (%)": f"{r.test_acc_mean:.2f} ± {_std(r.test_acc_std):.2f}",
                "paper test (%)": paper_test,
                "epochs (mean)": round(r.epochs, 1),
                "epoch cap": int(r.max_epochs),
                "seeds": int(r.seeds),
            }
        )
    return pd.DataFrame(rows)


def _std(value: float) -> float:
    return 0.0 if pd.isna(value) else value


@register_figure("keskar_gap", "keskar_gap")
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
                    yerr=_std(row[f"{column}_std"]),
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
                        label="paper" if (i, j) == (0, 0) else None,
                    )
        low = float(np.nanmin(summary[summary["model"] == model][["train_eval_acc_mean", "test_acc_mean"]]))
        ax.set_ylim(max(0.0, low - 10), 100.5)
        ax.set_xticks([0.5, 3.1], ["train", "test"])
        data = rows["data"].iloc[0]
        ax.set_title(f"{display_name(model)} on {display_name(data)}", loc="left", fontsize="medium")
        ax.set_ylabel("accuracy (%)")
        ax.grid(axis="x", visible=False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper")
    fig.suptitle("Keskar et al. Table 2: small (SB) vs large (LB) batch, train and test accuracy")
    fig.supxlabel(
        "Adam, same learning rate, until the training loss stops improving; mean ± std over seeds.\n"
        "Black ticks: the paper's values (full data sets; the quick profile trains on subsets, see the "
        "table).",
        x=0.0,
        ha="left",
        fontsize=8.5,
        color="0.35",
    )
    return fig
