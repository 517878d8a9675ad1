"""Sharp vs flat minima (Keskar et al. 2017, Section 3; Li et al. 2018): sharpness tables in the layout of
Keskar's Tables 3 and 4, the SB -> LB interpolation of Figure 3, random-direction perturbation curves and
contours, and the Hessian spectrum. Everything reads the long analysis table (``curves.csv``, one ``table``
value per kind of measurement) joined with ``runs.csv`` for the network and seed."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from optfactors.analysis.hessian import smoothed_density
from optfactors.report.figures import register_figure
from optfactors.report.style import REGIME_COLORS
from optfactors.studies.sharp_flat.tables import (
    MEASURES,
    REGIMES,
    analysis_rows,
    network_label,
    networks,
    rank_correlation,
    sharpness_and_accuracy,
)

EXPERIMENT = "sharp_flat"


def _panels(count: int, width: float = 4.4, height: float = 3.6) -> tuple[Figure, np.ndarray]:
    fig = Figure(layout="constrained", figsize=(width * max(count, 1), height))
    return fig, fig.subplots(1, max(count, 1), squeeze=False)[0]


@register_figure("sharp_flat_interpolation")
def interpolation(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Keskar's Figure 3: cross-entropy (left, log scale) and accuracy (right) along
    alpha * theta_LB + (1 - alpha) * theta_SB, training (solid) and test (dashed) samples, mean over seeds."""
    frame = analysis_rows(runs, curves, "interpolation")
    models = networks(frame)
    fig, axes = _panels(len(models))
    for ax, model in zip(axes, models, strict=False):
        part = frame[frame["model"] == model].groupby(["split", "alpha"])[["loss", "accuracy"]].mean()
        acc_ax = ax.twinx()
        for split, style in (("train", "-"), ("test", "--")):
            curve = part.loc[split]
            ax.plot(curve.index, curve["loss"], style, color="#0072B2", label=f"{split} loss")
            acc_ax.plot(
                curve.index, 100 * curve["accuracy"], style, color="#D55E00", label=f"{split} accuracy"
            )
        ax.set_yscale("log")
        ax.set_xlabel("α (0: SB solution, 1: LB solution)")
        ax.set_ylabel("cross-entropy", color="#0072B2")
        acc_ax.set_ylabel("accuracy (%)", color="#D55E00")
        acc_ax.set_ylim(0, 100)
        for alpha in (0, 1):
            ax.axvline(alpha, color="#999999", lw=0.8, zorder=0)
        ax.set_title(f"{network_label(frame, model)}: SB → LB")
        handles = ax.get_legend_handles_labels()[0] + acc_ax.get_legend_handles_labels()[0]
    if models:
        fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize="small")
    fig.suptitle("Loss and accuracy on the line through the SB and LB solutions")
    return fig


@register_figure("sharp_flat_perturbation")
def perturbation(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Training loss at theta + r d along filter-normalised random directions d (Li et al.): mean over
    directions and seeds (line) and their range (band), SB vs LB."""
    frame = analysis_rows(runs, curves, "perturbation")
    models = networks(frame)
    fig, axes = _panels(len(models))
    for ax, model in zip(axes, models, strict=False):
        for regime in REGIMES:
            part = frame[(frame["model"] == model) & (frame["regime"] == regime)].groupby("radius")["loss"]
            stats = part.agg(["mean", "min", "max"])
            color = REGIME_COLORS[regime]
            ax.plot(stats.index, stats["mean"], color=color, label=regime.upper())
            ax.fill_between(stats.index, stats["min"], stats["max"], color=color, alpha=0.2, lw=0)
        ax.set_yscale("log")
        ax.set_xlabel("radius r (filter-normalised direction)")
        ax.set_ylabel("training cross-entropy")
        ax.set_title(network_label(frame, model))
        ax.legend()
    fig.suptitle("Random perturbations of the SB and LB solutions: flat basin vs narrow ravine")
    return fig


@register_figure("sharp_flat_contours")
def contours(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Training loss on the plane theta + a d1 + b d2 of two filter-normalised random directions (Li et
    al.'s contour plot), SB and LB of each network side by side, first seed, shared log-spaced levels."""
    frame = analysis_rows(runs, curves, "plane")
    models = networks(frame)
    fig = Figure(layout="constrained", figsize=(7.6, 3.4 * max(len(models), 1)))
    axes = fig.subplots(max(len(models), 1), 2, squeeze=False)
    for row, model in zip(axes, models, strict=False):
        part = frame[
            (frame["model"] == model) & (frame["seed"] == frame.loc[frame["model"] == model, "seed"].min())
        ]
        log_loss = np.log10(part["loss"].clip(lower=1e-12))
        levels = np.linspace(log_loss.min(), log_loss.max(), 15)
        for ax, regime in zip(row, REGIMES, strict=True):
            grid = part[part["regime"] == regime].pivot_table(index="b", columns="a", values="loss")
            filled = ax.contourf(
                grid.columns, grid.index, np.log10(grid.clip(lower=1e-12)), levels=levels, cmap="viridis"
            )
            ax.plot(0, 0, "+", color="white", ms=10)
            ax.set_title(f"{network_label(frame, model)} {regime.upper()}")
            ax.set_xlabel("a (direction 1)")
            ax.set_ylabel("b (direction 2)")
            ax.set_aspect("equal")
        fig.colorbar(filled, ax=list(row), label="log10 training cross-entropy")
    fig.suptitle("Loss surface around the SB and LB solutions")
    return fig


@register_figure("sharp_flat_spectrum")
def spectrum(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Hessian eigenvalue density by stochastic Lanczos quadrature (seeds pooled; Gaussian width as
    PyHessian's), SB vs LB, with the top eigenvalue (Lanczos, mean over seeds) as a dashed line."""
    frame = analysis_rows(runs, curves, "spectrum")
    tops = analysis_rows(runs, curves, "hessian")
    models = networks(frame)
    fig, axes = _panels(len(models))
    for ax, model in zip(axes, models, strict=False):
        part = frame[frame["model"] == model]
        spread = part["node"].max() - part["node"].min()
        sigma = (1e-5 * max(1.0, spread)) ** 0.5  # PyHessian's width
        grid = np.linspace(part["node"].min() - 0.02 * spread, part["node"].max() + 0.02 * spread, 20_000)
        for regime in REGIMES:
            nodes = part[part["regime"] == regime]
            weights = nodes["weight"] / nodes["seed"].nunique()
            _, density = smoothed_density(nodes["node"].to_numpy(), weights.to_numpy(), sigma, grid)
            color = REGIME_COLORS[regime]
            ax.semilogy(grid, np.maximum(density, 1e-12), color=color, lw=1, label=regime.upper())
            top = tops.loc[(tops["model"] == model) & (tops["regime"] == regime), "top_eigenvalue"].mean()
            ax.axvline(top, color=color, ls="--", lw=1)
        ax.set_ylim(bottom=1e-10)
        ax.set_xlabel("Hessian eigenvalue")
        ax.set_ylabel("density")
        ax.set_title(network_label(frame, model))
        ax.legend()
    fig.suptitle("Hessian spectrum at the SB and LB solutions (dashed: top eigenvalue)")
    return fig


@register_figure("sharp_flat_sharpness_vs_test")
def sharpness_vs_test(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """The figure beside Keskar's Table 2: per solution (seed and regime), each sharpness measure (log x)
    against its test accuracy, SB and LB colored, Spearman's rho and p in each panel's title."""
    frame = sharpness_and_accuracy(runs)
    models = networks(frame)
    fig = Figure(layout="constrained", figsize=(4.2 * len(MEASURES), 3.4 * max(len(models), 1)))
    axes = fig.subplots(max(len(models), 1), len(MEASURES), squeeze=False)
    for row, model in zip(axes, models, strict=False):
        part = frame[frame["model"] == model]
        for ax, (measure, label) in zip(row, MEASURES.items(), strict=True):
            for regime in REGIMES:
                points = part[part["regime"] == regime]
                ax.scatter(
                    points[measure], points["test_acc"], color=REGIME_COLORS[regime], label=regime.upper()
                )
            rho, p, n = rank_correlation(part, measure)
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels of a short log range overlap
            ax.set_xlabel(label)
            ax.set_ylabel("test accuracy (%)")
            ax.set_title(
                f"{network_label(part, model)}: ρ = {rho:.2f}, p = {p:.2g} (n = {n})", fontsize="medium"
            )
    if models:
        fig.legend(*axes[0][0].get_legend_handles_labels(), loc="outside right upper")
    fig.suptitle("Sharper solutions, worse test accuracy? Each point one trained model (seed, regime)")
    return fig
