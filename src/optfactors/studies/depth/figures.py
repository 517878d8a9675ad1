"""He et al. 2016, Figures 1 and 6: training and validation error of plain and residual nets."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.figures import register_figure
from optfactors.studies.depth.tables import NETWORKS, depth_curves


@register_figure("depth")
def depth(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Training error (left) and validation error (right) per epoch of plain and residual networks of depth
    20 and 56, mean over seeds (He et al. 2016, Figure 1 and 6)."""
    fig = Figure(layout="constrained", figsize=(11, 4.2))
    train_ax, val_ax = fig.subplots(1, 2)
    for key, curve in sorted(depth_curves(runs, curves).items(), key=lambda kv: (kv[0][1], kv[0][0])):
        label, color, style = NETWORKS.get(key, (f"depth {key[0]}, residual {key[1]}", "#999999", ":"))
        epochs = curve.index + 1
        train_ax.plot(epochs, 100 * (1 - curve["train_acc"]), style, color=color, label=label)
        val_ax.plot(epochs, 100 * (1 - curve["val_acc"]), style, color=color, label=label)
    train_ax.set(xlabel="epoch", ylabel="training error (%, epoch mean)")
    val_ax.set(xlabel="epoch", ylabel="validation error (%)")
    train_ax.legend(fontsize="small")
    widths = sorted(runs["model.width"].dropna().unique()) if "model.width" in runs else []
    subset = runs["data.subset"].dropna().unique() if "data.subset" in runs else []
    size = f"{int(subset[0]):,} training images" if len(subset) else "full training set"
    fig.suptitle(
        f"20 vs 56 layers, plain and residual (He et al. 2016; CIFAR-10, {size}, "
        f"first-stage width {', '.join(str(int(w)) for w in widths)})"
    )
    return fig
