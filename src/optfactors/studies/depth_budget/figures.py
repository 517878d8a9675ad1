"""The residual depth claim's budget trend: ResNet-20 and ResNet-56's final training loss per budget."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.figures import register_figure
from optfactors.studies.depth.tables import NETWORKS
from optfactors.studies.depth_budget.tables import residual_by_budget

STUDY = "depth_budget"


@register_figure(STUDY)
def depth_budget(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Final training loss of ResNet-20 and ResNet-56 against the training budget (mean ± std over seeds;
    the shortest budget is the depth study's), and ResNet-56's excess over ResNet-20."""
    fig = Figure(layout="constrained", figsize=(11, 4.2))
    loss_ax, excess_ax = fig.subplots(1, 2)
    table = residual_by_budget(runs)
    for depth in (20, 56):
        label, color, style = NETWORKS[(depth, True)]
        loss_ax.errorbar(
            table["epochs"],
            table[f"resnet{depth}"],
            yerr=table[f"resnet{depth}_std"].fillna(0),
            fmt="o" + style,
            capsize=3,
            color=color,
            label=label,
        )
    excess_ax.plot(table["epochs"], table["excess"], "o-", color=NETWORKS[(56, True)][1])
    excess_ax.axhline(0, color="#999999", lw=0.8)
    for ax in (loss_ax, excess_ax):
        ax.set_xscale("log", base=2)
        ax.set_xticks(table["epochs"], [str(e) for e in table["epochs"]])
        ax.set_xlabel("training budget (epochs, cosine decay over each)")
    loss_ax.set_ylabel("final training loss (eval mode)")
    loss_ax.legend(fontsize="small")
    excess_ax.set_ylabel("ResNet-56 minus ResNet-20")
    fig.suptitle("He et al.'s residual claim trained longer (CIFAR-10; the depth study's budget first)")
    return fig
