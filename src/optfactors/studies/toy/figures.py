"""The lecture's 2-D error-surface figures: contours of the surface with the optimizers' paths on them."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from optfactors.report.figures import register_figure
from optfactors.studies.common import (
    stage_rows,
)

EXPERIMENT = "toy"


#: How each path reads in a legend, and its colour (Okabe-Ito).
PATHS = {
    "gd_lr_1e-2": ("GD, lr 1e-2", "#000000"),
    "gd_lr_1e-7": ("GD, lr 1e-7 (100,000 updates)", "#999999"),
    "adagrad_lecture": ("Adagrad (lecture: mean)", "#009E73"),
    "adagrad_lecture_decay": ("Adagrad (lecture) + lr decay", "#0072B2"),
    "adagrad_lecture_warmup": ("Adagrad (lecture) + warm-up", "#56B4E9"),
    "adagrad_torch": ("Adagrad (torch: sum)", "#CC79A7"),
    "rmsprop": ("RMSProp", "#E69F00"),
    "adam": ("Adam", "#D55E00"),
    "gd": ("GD", "#000000"),
    "gd_momentum": ("GD + momentum", "#D55E00"),
    "gd_cross_entropy": ("GD", "#000000"),
    "gd_mse": ("GD", "#000000"),
    "adam_mse": ("Adam", "#D55E00"),
}


def _contour(ax: Axes, surfaces: pd.DataFrame, name: str, log: bool = True) -> None:
    grid = surfaces[surfaces["surface"] == name].pivot_table(index="y", columns="x", values="loss")
    values = grid.to_numpy()
    shown = np.log10(values - values.min() + 1e-3) if log else values
    ax.contourf(grid.columns, grid.index, shown, levels=25, cmap="viridis", alpha=0.85)
    ax.contour(grid.columns, grid.index, shown, levels=12, colors="white", linewidths=0.4, alpha=0.6)


def _paths(ax: Axes, paths: pd.DataFrame, labels: list[str]) -> None:
    for label in labels:
        path = paths[paths["path"] == label]
        if path.empty:
            continue
        name, color = PATHS.get(label, (label, "#444444"))
        ax.plot(path["x"], path["y"], "-", color=color, lw=1.2, label=name)
        marks = {"color": color, "clip_on": False, "zorder": 5}
        ax.plot(path["x"].iloc[0], path["y"].iloc[0], "o", ms=5, **marks)
        ax.plot(path["x"].iloc[-1], path["y"].iloc[-1], "x", ms=9, mew=2, **marks)


@register_figure("toy_adaptive_lr")
def adaptive_lr(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """The elongated valley (minimum at the star): plain GD at the lecture's two learning rates, the
    lecture's Adagrad with its bursts, learning-rate decay and warm-up, and RMSProp / Adam / torch's Adagrad;
    the bottom panels show the steep coordinate b against updates (long paths are stored as the extremes of
    each window of updates, so oscillations and burst peaks keep their size: `toy.trajectory.thin`)."""
    surfaces, paths = stage_rows(curves, "surface"), stage_rows(curves, "path")
    paths = paths[paths["demo"] == "elongated"]
    panels = [
        ("Plain gradient descent", ["gd_lr_1e-2", "gd_lr_1e-7"]),
        ("Adagrad as in the lecture", ["adagrad_lecture"]),
        ("… with learning-rate decay / warm-up", ["adagrad_lecture_decay", "adagrad_lecture_warmup"]),
        ("For comparison", ["rmsprop", "adam", "adagrad_torch"]),
    ]
    fig = Figure(layout="constrained", figsize=(13, 8.4))
    axes = fig.subplots(3, 2).ravel()
    for ax, (title, labels) in zip(axes, panels, strict=False):
        _contour(ax, surfaces, "elongated")
        _paths(ax, paths, labels)
        ax.plot(0, 0, "*", color="white", ms=12)
        ax.set(title=title, xlabel="w (flat direction)", ylabel="b (steep direction)", ylim=(-2, 2))
        ax.legend(fontsize="small", loc="lower right")
    for ax, labels in zip(
        axes[4:], (["adagrad_lecture", "adagrad_lecture_decay"], ["gd_lr_1e-2"]), strict=True
    ):
        for label in labels:
            path = paths[paths["path"] == label]
            name, color = PATHS[label]
            ax.plot(path["step"], path["y"], color=color, lw=1, label=name)
        ax.set(xlabel="update", ylabel="b (steep direction)")
        ax.legend(fontsize="small")
    axes[4].set_title("Bursts along the steep direction, and decay removing them")
    axes[5].set(title="GD lr 1e-2: jumping between the walls", xlim=(0, 40))
    fig.suptitle("Error surface: the learning rate cannot be one-size-fits-all")
    return fig


@register_figure("toy_momentum")
def momentum(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """L = x^4 + x^3 + y^2: GD stops near the critical point at the origin; with momentum it rolls past it
    into the minimum at (-3/4, 0). Right: loss against updates."""
    surfaces, paths = stage_rows(curves, "surface"), stage_rows(curves, "path")
    paths = paths[paths["demo"] == "momentum"]
    fig = Figure(layout="constrained", figsize=(11, 4.2))
    ax, loss_ax = fig.subplots(1, 2)
    _contour(ax, surfaces, "saddle_and_minimum")
    _paths(ax, paths, ["gd", "gd_momentum"])
    ax.plot(0, 0, "s", color="white", ms=6, label="critical point (not a minimum)")
    ax.plot(-0.75, 0, "*", color="white", ms=12, label="minimum")
    ax.set(xlabel="x", ylabel="y", title="Paths on L = x⁴ + x³ + y²")
    ax.legend(fontsize="small", loc="lower right")
    for label in ("gd", "gd_momentum"):
        path = paths[paths["path"] == label]
        name, color = PATHS[label]
        loss_ax.plot(path["step"], path["loss"], color=color, label=name)
    loss_ax.set(xlabel="update", ylabel="loss", xscale="log", title="Loss")
    loss_ax.legend()
    fig.suptitle("Momentum carries the ball past a critical point")
    return fig


@register_figure("toy_mse_vs_ce")
def mse_vs_ce(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """The lecture's 3-class example (target class 1, y3 = -1000): the cross-entropy and the MSE surfaces
    over (y1, y2), with GD (and Adam under MSE) started in the high-loss corner."""
    surfaces, paths = stage_rows(curves, "surface"), stage_rows(curves, "path")
    paths = paths[paths["demo"] == "mse_vs_ce"]
    fig = Figure(layout="constrained", figsize=(11, 4.8))
    for ax, (name, title, labels) in zip(
        fig.subplots(1, 2),
        (
            ("three_class_mse", "Mean square error", ["gd_mse", "adam_mse"]),
            ("three_class_cross_entropy", "Cross-entropy", ["gd_cross_entropy"]),
        ),
        strict=True,
    ):
        _contour(ax, surfaces, name, log=False)
        _paths(ax, paths[paths["surface"] == name], labels)
        ax.set(xlabel="y1 (target class)", ylabel="y2", title=title, xlim=(-10, 10), ylim=(-10, 10))
        ax.legend(fontsize="small", loc="upper right")
    fig.suptitle("Classification loss surfaces: MSE is flat where the prediction is badly wrong")
    return fig


@register_figure("toy_ewa")
def ewa(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Exponentially weighted average of noisy values around a constant: started at 0 it lags far below
    the mean for the first ~1/(1 - beta) updates; Adam's bias correction removes that."""
    frame = stage_rows(curves, "ewa")
    fig = Figure(layout="constrained", figsize=(6.4, 4))
    ax = fig.subplots()
    ax.plot(frame["step"], frame["value"], ".", color="#999999", label="values")
    ax.plot(frame["step"], frame["average"], color="#D55E00", label="weighted average")
    ax.plot(frame["step"], frame["corrected"], color="#0072B2", label="bias-corrected")
    ax.axhline(frame["mean"].iloc[0], color="#000000", lw=0.8, ls="--", label="true mean")
    ax.set(xlabel="update t", ylabel="value", title="Bias correction of the weighted average")
    ax.legend()
    return fig
