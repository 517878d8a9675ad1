"""Training at large learning rates: warm-up, BatchNorm and gradient clipping."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from optfactors.figures import register_figure
from optfactors.results import ok_runs

LR = "optimizer.lr"
CLIP = "trainer.gradient_clip_val"
SCHEDULES = {
    "cosine": ("cosine decay, no warm-up", "#000000"),
    "warmup_cosine": ("linear warm-up + cosine", "#0072B2"),
    "inverse_sqrt": ("warm-up + 1/√t (Transformer)", "#E69F00"),
}
NETWORKS = {"keskar_f1": ("F1 (BatchNorm)", "#0072B2"), "mlp": ("F1 without BatchNorm", "#D55E00")}


def by_lr(runs: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    """Per ``keys`` and learning rate: mean ``value`` over ok runs, and how many runs ran and diverged."""
    grouped = runs.groupby([*keys, LR])
    table = pd.DataFrame(
        {
            "runs": grouped.size(),
            "diverged": grouped["status"].apply(lambda s: int((s == "diverged").sum())),
        }
    )
    table[value] = ok_runs(runs).groupby([*keys, LR])[value].mean()
    return table.reset_index()


def clip_label(value: float) -> str:
    return "no clipping" if pd.isna(value) else f"clipped at {value:g}"


@register_figure("warmup", "warmup")
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
        ax.plot(blown[LR], np.full(len(blown), ax.get_ylim()[1]), "x", color=color, ms=10, mew=2)
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


@register_figure("normalization", "normalization")
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
