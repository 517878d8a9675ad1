"""Batch-size figures: the quick start, a small vs a large batch trained for the same number of epochs."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.figures import register_figure
from optfactors.report.style import FOOTNOTE_SIZE, joined_names
from optfactors.studies.common import (
    BATCH_SIZE,
    display_name,
    ok_runs,
)

#: batch_accuracy's curves: column, label, line style.
ACCURACY_CURVES = (("train_eval_acc", "train (eval mode)", "--"), ("val_acc", "validation", "-"))


def accuracy_by_batch(runs: pd.DataFrame) -> pd.DataFrame:
    """Per dataset and batch size: mean and std over seeds of the final train and validation accuracy (%)."""
    ok = ok_runs(runs)
    columns = [c for c, _, _ in ACCURACY_CURVES]
    stats = (100 * ok[columns]).groupby([ok["dataset"], ok["model"], ok[BATCH_SIZE]]).agg(["mean", "std"])
    stats.columns = [f"{column}_{stat}" for column, stat in stats.columns]
    stats["seeds"] = ok.groupby(["dataset", "model", BATCH_SIZE]).size()
    return stats.reset_index()


@register_figure("batch_accuracy")
def batch_accuracy(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """One panel per dataset: final train and validation accuracy vs batch size (same epochs for all)."""
    stats = accuracy_by_batch(runs)
    settings = list(stats.groupby(["dataset", "model"]).groups)
    fig = Figure(layout="constrained", figsize=(5 * max(len(settings), 1), 4.2))
    axes = fig.subplots(1, max(len(settings), 1), squeeze=False)[0]
    for ax, (data, model) in zip(axes, settings, strict=False):
        group = stats[(stats["dataset"] == data) & (stats["model"] == model)]
        for column, label, style in ACCURACY_CURVES:
            mean, std = group[f"{column}_mean"], group[f"{column}_std"].fillna(0.0)
            ax.errorbar(
                group[BATCH_SIZE], mean, yerr=std, linestyle=style, marker="o", capsize=3, label=label
            )
        epochs = joined_names(runs[runs["dataset"] == data], "trainer.max_epochs")
        ax.set(xscale="log", xlabel="batch size", ylabel="final accuracy (%)")
        ax.set_title(
            f"{display_name(data)}, {display_name(model)}, {epochs} epochs", loc="left", fontsize="medium"
        )
        ax.legend(loc="lower left")
    fig.suptitle("Same number of epochs: final train and validation accuracy vs batch size")
    fig.supxlabel(
        "Mean ± std over seeds; plain SGD, one learning rate for every batch size, so larger batches make "
        "fewer updates. Train accuracy: the training set re-evaluated in eval mode after training.",
        x=0.0,
        ha="left",
        fontsize=FOOTNOTE_SIZE,
        color="0.35",
    )
    return fig
