"""Optimizers, schedules and losses on real networks: training curves per optimizer, best test accuracy per
optimizer and schedule, and MSE vs cross-entropy training curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from optfactors.figures import register_figure, register_table
from optfactors.figures.style import display_name, optimizer_color
from optfactors.results import ok_runs

OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam")
LR = "optimizer.lr"


def best_runs(runs: pd.DataFrame, by: str = "val_acc", lowest: bool = False) -> pd.DataFrame:
    """Per dataset, optimizer and schedule: the learning rate whose ok runs have the best mean ``by``
    (highest, or lowest with ``lowest``), with that lr's mean train loss, validation and test accuracy, its
    seeds, and how many runs of the cell diverged over the whole grid."""
    keys = ["dataset", "optimizer", "schedule"]
    ok = ok_runs(runs)
    means = ok.groupby([*keys, LR], as_index=False).agg(
        train_loss=("train_loss", "mean"),
        val_acc=("val_acc", "mean"),
        test_acc=("test_acc", "mean"),
        test_acc_std=("test_acc", "std"),
        seeds=("seed", "nunique"),
    )
    order = means.sort_values(by, ascending=lowest)
    best = order.drop_duplicates(keys).reset_index(drop=True)
    diverged = runs[runs["status"] == "diverged"].groupby(keys).size().rename("diverged_runs")
    best = best.join(diverged, on=keys).fillna({"diverged_runs": 0})
    return best.rename(columns={"schedule": "scheduler", LR: "lr"})


@register_table("best", "optimizers")
def best_table(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Per dataset, optimizer and schedule, the learning rate of the grid with the best mean validation
    accuracy, and at it: final training loss, validation and test accuracy (mean ± std over seeds)."""
    best = best_runs(runs)
    rows = []
    for r in best.itertuples(index=False):
        rows.append(
            {
                "data": display_name(r.dataset),
                "optimizer": display_name(r.optimizer),
                "schedule": r.scheduler,
                "best lr": r.lr,
                "train loss": round(r.train_loss, 4),
                "val acc. (%)": round(100 * r.val_acc, 2),
                "test acc. (%)": f"{100 * r.test_acc:.2f} ± {100 * np.nan_to_num(r.test_acc_std):.2f}",
                "seeds": int(r.seeds),
                "diverged runs (grid)": int(r.diverged_runs),
            }
        )
    return pd.DataFrame(rows)


def _curve(curves: pd.DataFrame, keys: pd.Series, column: str) -> pd.Series:
    """Mean over the runs in ``keys`` of ``column`` per epoch."""
    part = curves[curves["run_key"].isin(keys)]
    return part.groupby("epoch")[column].mean()


@register_figure("optimizers_training_loss", "optimizers")
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
            curve = _curve(curves, cell["run_key"], "train_loss")
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


@register_figure("optimizers_best_accuracy", "optimizers")
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


LOSS_STYLES = {"cross_entropy": "-", "mse": "--"}


@register_figure("loss_mse_vs_ce", "loss_mse_vs_ce")
def mse_vs_ce(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Training accuracy per epoch (running mean) for cross-entropy (solid) and the lecture's softmax MSE
    (dashed), with SGD and with Adam at their default learning rates; mean over seeds."""
    ok = ok_runs(runs)
    fig = Figure(layout="constrained", figsize=(6.4, 4.2))
    ax = fig.subplots()
    for (optimizer, loss), cell in ok.groupby(["optimizer", "loss"]):
        curve = _curve(curves, cell["run_key"], "train_acc")
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
