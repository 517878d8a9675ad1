"""The lecture's MSE vs cross-entropy on MNIST: training accuracy per epoch."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from optfactors.report.figures import register_figure
from optfactors.report.style import optimizer_color
from optfactors.studies.common import (
    display_name,
    ok_runs,
)
from optfactors.studies.optimizers.tables import mean_curve

LOSS_STYLES = {"cross_entropy": "-", "mse": "--"}


@register_figure("loss_mse_vs_ce")
def mse_vs_ce(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Training accuracy per epoch (running mean) for cross-entropy (solid) and the lecture's softmax MSE
    (dashed), with SGD and with Adam at their default learning rates; mean over seeds."""
    ok = ok_runs(runs)
    fig = Figure(layout="constrained", figsize=(6.4, 4.2))
    ax = fig.subplots()
    for (optimizer, loss), cell in ok.groupby(["optimizer", "loss"]):
        curve = mean_curve(curves, cell["run_key"], "train_acc")
        ax.plot(
            curve.index + 1,
            100 * curve.to_numpy(),
            LOSS_STYLES.get(loss, ":"),
            marker="o",
            ms=3,
            color=optimizer_color(optimizer),
            label=f"{display_name(optimizer)}, {'cross-entropy' if loss == 'cross_entropy' else 'MSE'}",
        )
    ax.set(xlabel="epoch", ylabel="training accuracy (%)", title="MNIST MLP: MSE vs cross-entropy")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend()
    return fig
