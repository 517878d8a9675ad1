"""Training at large learning rates: warm-up, BatchNorm and gradient clipping."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.collect import ok_runs
from optfactors.report.figures import register_figure
from optfactors.report.summaries.stability import CLIP, LR, by_lr

SCHEDULES = {
    "cosine": ("cosine decay, no warm-up", "#000000"),
    "warmup_cosine": ("linear warm-up + cosine", "#0072B2"),
    "inverse_sqrt": ("warm-up + 1/√t (Transformer)", "#E69F00"),
}
NETWORKS = {"keskar_f1": ("F1 (BatchNorm)", "#0072B2"), "mlp": ("F1 without BatchNorm", "#D55E00")}


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


@register_figure("stuck", "stuck")
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
