"""Training at large learning rates: warm-up, BatchNorm and gradient clipping."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.figures import register_figure
from optfactors.studies.common import (
    CLIP,
    LR,
    by_lr,
)

NETWORKS = {"keskar_f1": ("F1 (BatchNorm)", "#0072B2"), "mlp": ("F1 without BatchNorm", "#D55E00")}


def clip_label(value: float) -> str:
    return "no clipping" if pd.isna(value) else f"clipped at {value:g}"


@register_figure("normalization")
def normalization(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Test accuracy against the SGD learning rate, with and without BatchNorm, with and without gradient
    clipping; mean over ok seeds, × at the top where a seed diverged."""
    frame = runs.assign(clip=runs[CLIP].map(clip_label))
    table = by_lr(frame, ["model", "clip"], "test_acc")
    fig = Figure(layout="constrained", figsize=(6.8, 4.4))
    ax = fig.subplots()
    for (model, clip), part in table.groupby(["model", "clip"]):
        label, color = NETWORKS.get(model, (model, "#999999"))
        style = "o-" if clip == "no clipping" else "s--"
        ax.plot(part[LR], 100 * part["test_acc"], style, color=color, label=f"{label}, {clip}")
        blown = part[part["diverged"] > 0]
        ax.plot(blown[LR], np.full(len(blown), 102), "x", color=color, ms=10, mew=2, clip_on=False)
    ax.set(xscale="log", xlabel="learning rate (SGD)", ylabel="test accuracy (%)", ylim=(0, 100))
    ax.legend(fontsize="small")
    ax.set_title("× above the plot: a seed diverged at that learning rate", fontsize="small")
    fig.suptitle("BatchNorm and gradient clipping let SGD use larger learning rates")
    return fig
