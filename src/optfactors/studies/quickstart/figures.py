"""Batch-size figures: the quick start, a small vs a large batch trained for the same number of epochs."""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from optfactors.report.figures import register_figure
from optfactors.report.style import FOOTNOTE_SIZE, batch_size_color, joined_names
from optfactors.studies.common import (
    BATCH_SIZE,
    ok_runs,
)

#: Final metrics of panel (b): column, legend label, bar hatch (train hatched, test solid).
FINAL_METRICS = (("train_eval_acc", "train (eval mode)", "///"), ("test_acc", "test", None))


@register_figure("quickstart_batch_size")
def quickstart_batch_size(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """(a) validation accuracy per epoch and (b) final train/test accuracy, one colour per batch size."""
    ok = ok_runs(runs)
    fig = Figure(layout="constrained")
    ax_curves, ax_bars = fig.subplots(1, 2, width_ratios=(1.25, 1))
    if ok.empty:
        for ax in (ax_curves, ax_bars):
            ax.text(0.5, 0.5, "no run finished with status ok", transform=ax.transAxes, ha="center")
    else:
        _plot_curves(ax_curves, ok, curves)
        _plot_final(ax_bars, ok)
    fig.suptitle(_title(runs, ok))
    _footnote(fig, runs, ok)
    return fig


def _plot_curves(ax: Axes, ok: pd.DataFrame, curves: pd.DataFrame) -> None:
    """Validation accuracy (%) vs epoch: mean over seeds per batch size, min-max band."""
    per_run = curves.merge(ok[["run_key", BATCH_SIZE]], on="run_key")
    updates = ok.groupby(BATCH_SIZE)["updates"].mean()
    for batch, group in per_run.groupby(BATCH_SIZE):
        acc = (100 * group["val_acc"]).groupby(group["epoch"]).agg(["mean", "min", "max"])
        epochs = acc.index + 1  # curves count epochs from 0; plot epochs completed
        color = batch_size_color(int(batch))
        label = f"{int(batch):,} ({updates[batch]:,.0f} updates)"
        ax.plot(epochs, acc["mean"], marker="o", color=color, label=label)
        ax.fill_between(epochs, acc["min"], acc["max"], color=color, alpha=0.2, linewidth=0)
    ax.set(xlabel="epoch", ylabel="validation accuracy (%)")
    ax.set_title("(a) during training", loc="left")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(title="batch size", loc="best")


def _plot_final(ax: Axes, ok: pd.DataFrame) -> None:
    """Final train (eval mode) and test accuracy (%) per batch size: grouped bars, error bars = seed std."""
    metrics = [m for m, _, _ in FINAL_METRICS]
    by_batch = (100 * ok[metrics]).groupby(ok[BATCH_SIZE])
    mean, std = by_batch.mean(), by_batch.std().fillna(0.0)  # std of a single seed: no error bar
    batches = [int(b) for b in mean.index]
    width = 0.38
    for i, (metric, _, hatch) in enumerate(FINAL_METRICS):
        offset = (i - 0.5) * width
        for x, batch in enumerate(batches):
            m, s = mean.loc[batch, metric], std.loc[batch, metric]
            color = batch_size_color(batch)
            ax.bar(
                x + offset,
                m,
                width,
                yerr=s,
                hatch=hatch,
                edgecolor=color,
                linewidth=1,
                ecolor="0.2",
                facecolor=(*color[:3], 0.35) if hatch else color,
            )
            ax.annotate(
                f"{m:.1f}",
                (x + offset, m + s),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=FOOTNOTE_SIZE,
            )
    low, high = (mean - std).min().min(), (mean + std).max().max()
    span = max(high - low, 1.0)
    bottom, top = max(0.0, 5 * math.floor((low - span) / 5)), max(high, 100.0)
    ax.set_ylim(bottom, top + 0.3 * (top - bottom))  # headroom above 100 % for the legend, without ticks
    ticks = MaxNLocator(nbins=5, steps=[1, 2, 5, 10]).tick_values(bottom, top)
    ax.set_yticks([t for t in ticks if bottom <= t <= top])
    ax.spines["left"].set_bounds(bottom, top)
    ax.set_xticks(range(len(batches)), [f"{b:,}" for b in batches])
    ax.set(xlabel="batch size", ylabel="final accuracy (%)")
    ax.set_title("(b) after training", loc="left")
    ax.grid(axis="x", visible=False)
    handles = [
        Patch(facecolor=(0.5, 0.5, 0.5, 0.35 if hatch else 1.0), edgecolor="0.5", hatch=hatch, label=label)
        for _, label, hatch in FINAL_METRICS
    ]
    ax.legend(handles=handles, loc="upper right", ncols=2)


def _title(runs: pd.DataFrame, ok: pd.DataFrame) -> str:
    """The claim as measured: does the smallest batch beat the largest on test accuracy?"""
    epochs = joined_names(runs, "trainer.max_epochs")
    same = f"Same {epochs} epochs" if epochs else "Same epochs"
    names = (joined_names(runs, f"choice.{group}") for group in ("data", "model", "optimizer"))
    setting = ", ".join(filter(None, names))
    means = ok.groupby(BATCH_SIZE)["test_acc"].mean().dropna()
    if len(means) < 2:
        return f"{same}: too few successful runs to compare batch sizes ({setting})"
    small, large = int(means.index[0]), int(means.index[-1])
    verb = "beats" if means.iloc[0] > means.iloc[-1] else "does not beat"
    return f"{same}: batch {small:,} {verb} batch {large:,} on test accuracy ({setting})"


def _footnote(fig: Figure, runs: pd.DataFrame, ok: pd.DataFrame) -> None:
    """What the bands and bars show, and how many runs were left out because they did not finish ok."""
    notes = []
    if not ok.empty:
        counts = ok.groupby(BATCH_SIZE).size()
        n = f"{counts.min()}" if counts.min() == counts.max() else f"{counts.min()}-{counts.max()}"
        seeds = "seed" if n == "1" else "seeds"
        notes.append(
            f"Mean over {n} {seeds} per batch size; band: min-max over seeds; error bars: ±1 std over seeds."
        )
    excluded = runs.loc[runs["status"] != "ok", "status"].value_counts()
    if not excluded.empty:
        parts = ", ".join(f"{count} {status}" for status, count in excluded.items())
        notes.append(f"Excluded from all means: {parts} run(s).")
    # A figure-level x label is the one bottom text constrained layout makes room for.
    fig.supxlabel("\n".join(notes), x=0.0, ha="left", fontsize=FOOTNOTE_SIZE, color="0.35")
