"""Training at large learning rates: warm-up, BatchNorm and gradient clipping."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.figures import register_figure
from optfactors.studies.common import (
    LR,
    by_lr,
    ok_runs,
)

SCHEDULES = {
    "cosine": ("cosine decay, no warm-up", "#000000"),
    "warmup_cosine": ("linear warm-up + cosine", "#0072B2"),
    "inverse_sqrt": ("warm-up + 1/√t (Transformer)", "#E69F00"),
}


@register_figure("warmup")
def warmup(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """(a) final training loss against the peak learning rate per schedule (× where a seed diverged);
    (b) training loss per epoch at the largest peak learning rate. Adam, deep plain net, mean over seeds."""
    table = by_lr(runs, ["schedule"], "train_loss")
    fig = Figure(layout="constrained", figsize=(11, 4.2))
    ax, curve_ax = fig.subplots(1, 2)
    top = runs[LR].max()
    ok = ok_runs(runs)
    for schedule, (label, color) in SCHEDULES.items():
        part = table[table["schedule"] == schedule]
        if part.empty:
            continue
        ax.plot(part[LR], part["train_loss"], "o-", color=color, label=label)
        blown = part[part["diverged"] > 0]
        top_edge = ax.get_xaxis_transform()  # x in data, y in axes fraction
        ax.plot(
            blown[LR], np.ones(len(blown)), "x", color=color, ms=10, mew=2, transform=top_edge, clip_on=False
        )
        cell = ok[(ok["schedule"] == schedule) & np.isclose(ok[LR], top)]
        curve = curves[curves["run_key"].isin(cell["run_key"])].groupby("epoch")["train_loss"].mean()
        curve_ax.plot(curve.index + 1, curve.to_numpy(), "o-", color=color, label=label)
    ax.set(xscale="log", yscale="log", xlabel="peak learning rate", ylabel="final training loss")
    ax.set_title("(a) after the same budget", loc="left")
    ax.legend(fontsize="small")
    curve_ax.set(yscale="log", xlabel="epoch", ylabel="training loss (epoch mean)")
    curve_ax.set_title(f"(b) at peak lr {top:g}", loc="left")
    fig.suptitle("Warm-up at large learning rates (Adam, 5-layer plain MLP, MNIST)")
    return fig
