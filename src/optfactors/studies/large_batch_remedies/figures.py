"""large_batch_remedies: what each remedy does to the large batch's test accuracy, sharpness and cost."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.figures import register_figure
from optfactors.report.style import REGIME_COLORS
from optfactors.studies.common import (
    ok_runs,
)
from optfactors.studies.large_batch_remedies.tables import LB, REMEDY, SB, remedy_summary

#: How the remedies read in the figure.
LABELS = {
    SB: "SB 64 (reference)",
    LB: "LB 2,048 (reference)",
    "linear_scaling_warmup": "linear lr scaling\n+ warm-up",
    "ghost_bn_longer": "ghost BN 128\n+ train longer",
    "sam": "SAM ρ 0.05",
    "sam_small_rho": "SAM ρ 0.02",
    "sam_large_rho": "SAM ρ 0.1",
    "swa": "SWA",
    "lars": "LARS",
    "lamb": "LAMB",
}


def _color(remedy: str) -> str:
    return {SB: REGIME_COLORS["sb"], LB: REGIME_COLORS["lb"]}.get(remedy, "#555555")


@register_figure("large_batch_remedies")
def remedies_figure(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Per remedy: test accuracy (seeds as dots, SB and LB means as lines, share of the gap closed written
    above), ε-sharpness and top Hessian eigenvalue of the solutions, and wall time per run."""
    summary, ok = remedy_summary(runs), ok_runs(runs)
    fig = Figure(figsize=(11, 7.5), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    y = np.arange(len(summary))
    labels = [LABELS.get(r, r) for r in summary["remedy"]]
    colors = [_color(r) for r in summary["remedy"]]
    refs = summary.set_index("remedy")["test_acc_mean"]

    ax = axes[0]
    ax.barh(y, summary["test_acc_mean"], color=colors, alpha=0.35, xerr=summary["test_acc_std"])
    for i, remedy in enumerate(summary["remedy"]):
        seeds = 100 * ok.loc[ok[REMEDY] == remedy, "test_acc"]
        ax.plot(seeds, np.full(len(seeds), i), "o", color=_color(remedy), ms=4)
    for ref in (SB, LB):
        if ref in refs:
            ax.axvline(refs[ref], color=_color(ref), lw=1, ls="--")
    for i, row in summary.iterrows():
        if row["remedy"] not in (SB, LB) and np.isfinite(row["gap_closed"]):
            ax.annotate(
                f"{100 * row['gap_closed']:+.0f} % of gap",
                (row["test_acc_mean"], i),
                xytext=(6, 6),
                textcoords="offset points",
                fontsize=8,
            )
    seeds = 100 * ok["test_acc"].dropna()
    if not seeds.empty:  # every seed in view
        ax.set_xlim(seeds.min() - 0.3, seeds.max() + 0.5)
    ax.set_title("test accuracy (%): seeds, mean ± std; dashed: SB and LB")

    for ax, column, title, scale in (
        (axes[1], "epsilon_sharpness", "ε-sharpness (1e-3, 100-D subspace)", "log"),
        (axes[2], "top_eigenvalue", "top Hessian eigenvalue", "linear"),
    ):
        ax.barh(y, summary[column], color=colors, alpha=0.7)
        key = "train_eval_" + column
        for i, remedy in enumerate(summary["remedy"]):
            if key in ok:
                values = ok.loc[ok[REMEDY] == remedy, key]
                ax.plot(values, np.full(len(values), i), "o", color="black", ms=3)
        ax.set_xscale(scale)
        ax.set_title(title + " of the solution")

    ax = axes[3]
    ax.barh(y, summary["wall_time_s"] / 60, color=colors, alpha=0.7)
    for i, row in summary.iterrows():
        ax.annotate(
            f"{row['updates']:.0f} updates",
            (row["wall_time_s"] / 60, i),
            xytext=(4, -3),
            textcoords="offset points",
            fontsize=8,
        )
    ax.set_title("wall time per run (min) and updates")
    for ax in axes:
        ax.set_yticks(y, labels if ax in (axes[0], axes[2]) else [""] * len(y))
        ax.invert_yaxis()
    fig.suptitle("Large-batch remedies on F1 + SGD, MNIST (LB 2,048 vs SB 64)")
    return fig
