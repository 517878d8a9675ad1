"""critical_batch: Shallue et al.'s steps-to-target curve with the perfect-scaling line, the fitted knee
and McCandlish et al.'s noise scale; the same in training time; B_simple during training."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.figures import register_figure
from optfactors.studies.critical_batch.tables import (
    b_simple_at_target,
    best_per_batch,
    fit_knee,
    noise_scale_curve,
    runs_to_target,
)


@register_figure("critical_batch")
def critical_batch_figure(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Left: updates to the target vs batch size (log-log), every run faint, the best rate per batch
    joined, the perfect-scaling line through the smallest batch, the fitted S_min (1 + B_crit / B), the knee
    and B_simple. Middle: training time to the target. Right: B_simple during training."""
    best, per_run = best_per_batch(runs), runs_to_target(runs)
    fitted, b_simple = fit_knee(best), b_simple_at_target(runs)
    fig = Figure(figsize=(14, 4.6), layout="constrained")
    ax_steps, ax_time, ax_noise = fig.subplots(1, 3)
    reached = per_run[per_run["reached"]]
    for ax, column, label in ((ax_steps, "steps", "updates"), (ax_time, "time_s", "training time (s)")):
        ax.plot(
            reached["batch_size"], reached[column], "o", color="grey", alpha=0.3, ms=4, label="every rate"
        )
        ax.plot(best["batch_size"], best[column], "o-", color="#0072B2", label="best rate per batch")
        for row in best[best["at_edge"]].itertuples():
            ax.plot(row.batch_size, getattr(row, column), "s", mfc="none", mec="#D55E00", ms=10)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("batch size")
        ax.set_ylabel(f"{label} to the target")
    if not best.empty:
        b = np.geomspace(best["batch_size"].min(), best["batch_size"].max(), 200)
        first = best.iloc[0]
        ax_steps.plot(
            b, first["steps"] * first["batch_size"] / b, ":", color="black", label="perfect scaling ∝ 1/B"
        )
        if fitted is not None:
            s_min, b_crit = fitted
            ax_steps.plot(b, s_min * (1 + b_crit / b), "--", color="#009E73", label="S_min (1 + B_crit / B)")
            ax_steps.axvline(b_crit, color="#009E73", lw=1, label=f"knee B_crit = {b_crit:.0f}")
        if np.isfinite(b_simple):
            ax_steps.axvline(
                b_simple, color="#CC79A7", lw=1.5, ls="-.", label=f"B_simple at target = {b_simple:.0f}"
            )
    ax_steps.legend(fontsize=8)
    ax_steps.set_title("updates to the target (□: best rate at the grid's edge)")
    ax_time.set_title("training time to the target")

    curve = noise_scale_curve(runs)
    for (batch, lr), group in curve.groupby(["batch_size", "lr"]):
        mean = group.groupby("step")["b_simple"].mean()
        ax_noise.plot(mean.index.to_numpy() + 1, mean.to_numpy(), "o-", label=f"batch {batch}, lr {lr:g}")
    ax_noise.set_xscale("log")
    ax_noise.set_yscale("log")
    ax_noise.set_xlabel("update + 1")
    ax_noise.set_ylabel("B_simple = tr(Σ) / |G|²")
    ax_noise.set_title("simple noise scale during training")
    if not curve.empty:
        ax_noise.legend(fontsize=8)
    fig.suptitle("Critical batch size: F1 + SGD on MNIST, updates to the target validation accuracy")
    return fig
