"""The optimizer claims' budget trend on CIFAR-10: training loss per optimizer against epochs, and SGD +
momentum + cosine against Adam in test accuracy per budget."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.figures import register_figure
from optfactors.report.style import optimizer_color
from optfactors.studies.common import display_name
from optfactors.studies.optimizers_budget.tables import (
    ADAPTIVE,
    adaptive_margin_by_epoch,
    budgets,
    momentum_gap_by_budget,
)

STUDY = "optimizers_budget"


def _cifar_subset(runs: pd.DataFrame) -> str:
    sizes = runs.loc[runs["dataset"] == "cifar10", "data.subset"].dropna().unique()
    return f"{int(sizes[0]):,} training images" if len(sizes) == 1 else "the training set"


@register_figure(STUDY)
def optimizers_budget(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Left: CIFAR-10 training loss per epoch of SGD and the adaptive methods (constant rate, each epoch's
    lowest rate of the grid, mean over seeds), the optimizers study's budget marked. Right: test accuracy of
    SGD + momentum + cosine and of Adam per budget (mean ± std over seeds)."""
    fig = Figure(layout="constrained", figsize=(11, 4.2))
    loss_ax, acc_ax = fig.subplots(1, 2)
    losses = adaptive_margin_by_epoch(runs, curves)
    for name in ("sgd", *ADAPTIVE):
        if name in losses:
            loss_ax.plot(
                losses["epoch"],
                losses[name],
                "o-",
                ms=3,
                color=optimizer_color(name),
                label=display_name(name),
            )
    spans = budgets(runs)
    if spans:
        loss_ax.axvline(
            spans[0], color="#999999", ls=":", label=f"optimizers study's budget ({spans[0]} epochs)"
        )
    loss_ax.set(xlabel="epoch", ylabel="training loss (epoch mean)", title="constant learning rate")
    loss_ax.legend(fontsize="small")
    gaps = momentum_gap_by_budget(runs)
    for column, name, label in (
        ("momentum_cosine", "momentum", "SGD+momentum, cosine"),
        ("adam", "adam", "Adam, better schedule"),
    ):
        if len(gaps):
            acc_ax.errorbar(
                gaps["epochs"],
                gaps[column],
                yerr=gaps[f"{column}_std"].fillna(0),
                fmt="o-",
                capsize=3,
                color=optimizer_color(name),
                label=label,
            )
    acc_ax.set(
        xlabel="training budget (epochs)",
        ylabel="test accuracy (%)",
        title="best rate by validation accuracy",
    )
    acc_ax.set_xticks(gaps["epochs"] if len(gaps) else [])
    acc_ax.legend(fontsize="small")
    subset = _cifar_subset(runs)
    fig.suptitle(f"CIFAR-10, C1 on {subset}: the optimizer claims trained longer")
    return fig
