"""Training at large learning rates: warm-up, BatchNorm and gradient clipping."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.figures import register_figure
from optfactors.studies.common import (
    ok_runs,
)


@register_figure("stuck")
def stuck(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Training loss (left) and gradient norm before clipping (right axis) against full-batch updates, one
    line per seed."""
    ok = ok_runs(runs)
    fig = Figure(layout="constrained", figsize=(7.2, 4.2))
    ax = fig.subplots()
    norm_ax = ax.twinx()
    for i, (seed, key) in enumerate(zip(ok["seed"], ok["run_key"], strict=True)):
        curve = curves[curves["run_key"] == key]
        alpha = 1 - 0.6 * i / max(len(ok) - 1, 1)
        ax.plot(
            curve["updates"], curve["train_loss"], color="#0072B2", alpha=alpha, label=f"loss, seed {seed}"
        )
        norm_ax.plot(
            curve["updates"],
            curve["train_grad_norm"],
            color="#D55E00",
            alpha=alpha,
            lw=0.8,
            label=f"gradient norm, seed {seed}",
        )
    ax.set(xlabel="update (full batch)", ylabel="training loss", yscale="log")
    ax.yaxis.label.set_color("#0072B2")
    norm_ax.set_ylabel("gradient norm (before clipping)", color="#D55E00")
    norm_ax.set_yscale("log")
    handles = ax.get_legend_handles_labels()[0] + norm_ax.get_legend_handles_labels()[0]
    ax.legend(handles=handles, fontsize="small", loc="upper right")
    fig.suptitle("Training stuck ≠ small gradient")
    return fig
