"""Optimizers, schedules and losses on real networks: training curves per optimizer, best test accuracy per
optimizer and schedule, and MSE vs cross-entropy training curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from optfactors.report.figures import register_figure
from optfactors.report.style import optimizer_color
from optfactors.studies.common import (
    LR,
    display_name,
    ok_runs,
)
from optfactors.studies.optimizers.tables import OPTIMIZERS, best_runs, mean_curve


@register_figure("optimizers_training_loss")
def training_loss(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Training loss (running mean over each epoch) per optimizer at the learning rate that reached the
    lowest final training loss; solid: constant learning rate, dashed: cosine decay. Mean over seeds."""
    best = best_runs(runs, by="train_loss", lowest=True)
    ok = ok_runs(runs)
    datasets = list(dict.fromkeys(best["dataset"]))
    fig = Figure(layout="constrained", figsize=(5.4 * max(len(datasets), 1), 4.2))
    for ax, dataset in zip(fig.subplots(1, max(len(datasets), 1), squeeze=False)[0], datasets, strict=False):
        for r in best[best["dataset"] == dataset].itertuples(index=False):
            cell = ok[
                (ok["dataset"] == dataset)
                & (ok["optimizer"] == r.optimizer)
                & (ok["schedule"] == r.scheduler)
                & np.isclose(ok[LR], r.lr)
            ]
            curve = mean_curve(curves, cell["run_key"], "train_loss")
            ax.plot(
                curve.index + 1,
                curve.to_numpy(),
                "-" if r.scheduler == "constant" else "--",
                color=optimizer_color(r.optimizer),
                label=f"{display_name(r.optimizer)}, {r.scheduler}, lr {r.lr:g}",
            )
        ax.set(xlabel="epoch", ylabel="training loss (epoch mean)", yscale="log", title=display_name(dataset))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize="x-small", ncols=2)
    fig.suptitle("Training loss per optimizer, each at its best learning rate of the grid")
    return fig


@register_figure("optimizers_best_accuracy")
def best_accuracy(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Test accuracy per optimizer (bars) and schedule (plain: constant, hatched: cosine) at the learning rate
    with the best validation accuracy; error bars: std over seeds."""
    best = best_runs(runs)
    datasets = list(dict.fromkeys(best["dataset"]))
    fig = Figure(layout="constrained", figsize=(5.4 * max(len(datasets), 1), 4.2))
    for ax, dataset in zip(fig.subplots(1, max(len(datasets), 1), squeeze=False)[0], datasets, strict=False):
        part = best[best["dataset"] == dataset].set_index(["optimizer", "scheduler"])
        names = [o for o in OPTIMIZERS if o in part.index.get_level_values(0)]
        x = np.arange(len(names))
        for offset, schedule, hatch in ((-0.2, "constant", None), (0.2, "cosine", "///")):
            rows = [part.loc[(o, schedule)] if (o, schedule) in part.index else None for o in names]
            heights = [100 * r["test_acc"] if r is not None else np.nan for r in rows]
            errors = [100 * np.nan_to_num(r["test_acc_std"]) if r is not None else 0 for r in rows]
            ax.bar(
                x + offset,
                heights,
                0.4,
                yerr=errors,
                color=[optimizer_color(o) for o in names],
                hatch=hatch,
                edgecolor="white",
                label=schedule,
            )
        ax.set_xticks(x, [display_name(o) for o in names], rotation=20)
        low = np.nanmin(100 * part["test_acc"]) if len(part) else 0
        ax.set(ylabel="test accuracy (%)", title=display_name(dataset), ylim=(max(0, low - 10), 100))
        ax.legend(title="schedule")
    fig.suptitle("Best test accuracy per optimizer and learning-rate schedule")
    return fig
