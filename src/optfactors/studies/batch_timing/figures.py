"""Timing figures: the lecture's time for one update and for one epoch vs batch size."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from optfactors.report.figures import register_figure
from optfactors.studies.common import (
    BATCH_SIZE,
    display_name,
    ok_runs,
)

#: What each panel shows: column, y label, panel title.
PANELS = (
    ("time_per_update_s", "time for one update (s)", "(a) one update: forward + backward + step (median)"),
    ("time_per_epoch_s", "time for one epoch (s)", "(b) one epoch over the whole training set"),
)


def timing_by_batch(runs: pd.DataFrame) -> pd.DataFrame:
    """Per dataset/model and batch size: median, min and max over repeats of both times, and the count."""
    stats = ok_runs(runs).groupby(["dataset", "model", BATCH_SIZE])[[c for c, _, _ in PANELS]]
    stats = stats.agg(["median", "min", "max", "count"])
    stats.columns = [f"{column}_{stat}" for column, stat in stats.columns]
    return stats.reset_index()


@register_figure("batch_timing")
def batch_timing(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Two panels like the lecture's: time per update and per epoch vs batch size, log-log, min-max bars."""
    stats = timing_by_batch(runs)
    fig = Figure(layout="constrained", figsize=(10, 4.2))
    axes = fig.subplots(1, 2)
    for ax, (column, ylabel, title) in zip(axes, PANELS, strict=True):
        for (data, model), group in stats.groupby(["dataset", "model"]):
            _plot_series(ax, group, column, f"{display_name(data)}, {display_name(model)}")
        ax.set(xscale="log", yscale="log", xlabel="batch size", ylabel=ylabel)
        ax.set_title(title, loc="left", fontsize="medium")
        ax.legend(loc="best")
    device = "/".join(sorted(ok_runs(runs)["device"].dropna().unique()))
    fig.suptitle(f"Time for one update and for one epoch vs batch size. Device: {device}")
    low, high = stats["time_per_epoch_s_count"].min(), stats["time_per_epoch_s_count"].max()
    fig.supxlabel(
        f"Each point: median over {low if low == high else f'{low}-{high}'} repeats, bars min-max. "
        "Every epoch is a real, full pass over the training set.",
        x=0.0,
        ha="left",
        fontsize=8.5,
        color="0.35",
    )
    return fig


def _plot_series(ax: Axes, group: pd.DataFrame, column: str, label: str) -> None:
    batch = group[BATCH_SIZE]
    median, low, high = (group[f"{column}_{stat}"] for stat in ("median", "min", "max"))
    ax.errorbar(batch, median, yerr=[median - low, high - median], marker="o", capsize=3, label=label)
    for b, m in zip(batch, median, strict=True):
        text = f"{m * 1e3:.3g} ms" if m < 1 else f"{m:.3g} s"
        ax.annotate(text, (b, m), xytext=(4, 6), textcoords="offset points", fontsize=8, color="0.3")
