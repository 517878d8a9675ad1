"""Critical points: the minimum-ratio scatter, Hessian spectra, the saddle escape, and deeper plain vs
residual networks."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.figures import register_figure
from optfactors.studies.common import (
    stage_rows,
)
from optfactors.studies.critical_points.tables import (
    ALPHA,
    ratio_by_initialisations,
)

PROBLEMS = {"sinc": "sin(5πx)/(5πx), 1-16-16-1 tanh MLP", "mnist_small": "MNIST 7×7, 49-8-10 tanh MLP"}


@register_figure("critical_points")
def critical_points(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Per problem: training loss against minimum ratio at every converged critical point (the lecture's
    scatter), and the sorted Hessian eigenvalues of the stored spectra."""
    points, spectra = stage_rows(curves, "point"), stage_rows(curves, "spectrum")
    problems = [p for p in PROBLEMS if p in set(points.get("problem", []))]
    fig = Figure(layout="constrained", figsize=(5.2 * max(len(problems), 1), 8))
    axes = fig.subplots(2, max(len(problems), 1), squeeze=False)
    for column, problem in enumerate(problems):
        ax, spectrum_ax = axes[0, column], axes[1, column]
        part = points[points["problem"] == problem]
        converged = part["converged"].astype(bool)
        tol = f"{runs['critical.grad_tol'].iloc[0]:g}" if "critical.grad_tol" in runs else "threshold"
        ax.scatter(
            part.loc[converged, "minimum_ratio"],
            part.loc[converged, "loss"],
            s=14,
            color="#0072B2",
            label=f"critical point (|∇L| ≤ {tol}): {int(converged.sum())}",
        )
        ax.scatter(
            part.loc[~converged, "minimum_ratio"],
            part.loc[~converged, "loss"],
            s=14,
            facecolors="none",
            edgecolors="#999999",
            label=f"search stopped above the threshold: {int((~converged).sum())}",
        )
        ax.axvline(1.0, color="#999999", lw=0.8, ls=":")
        ax.set(yscale="log", xlabel="minimum ratio (positive / non-zero eigenvalues)", ylabel="training loss")
        ax.set_title(PROBLEMS[problem], fontsize="small")
        ax.legend(fontsize="x-small")
        shown = spectra[spectra["problem"] == problem]
        for (_, loss), spectrum in shown.groupby(["init_seed", "loss"]):
            values = np.sort(spectrum["eigenvalue"].to_numpy())
            rank = np.linspace(0, 1, len(values))
            spectrum_ax.plot(rank, values, lw=1, label=f"loss {loss:.3g}")
        spectrum_ax.set_yscale("symlog", linthresh=1e-6)
        spectrum_ax.axhline(0, color="#999999", lw=0.8)
        spectrum_ax.set(xlabel="eigenvalue rank (fraction)", ylabel="Hessian eigenvalue (symlog)")
        spectrum_ax.legend(fontsize="x-small", ncols=2)
    fig.suptitle("Critical points: training loss vs minimum ratio (top) and their Hessian spectra (bottom)")
    return fig


@register_figure("critical_points_trend")
def critical_points_trend(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Per problem, Spearman's ρ(loss, minimum ratio) and its p-value over the converged points of the first
    n initialisations, against n (the claim needs ρ < 0 with p < 0.05 in every problem)."""
    table = ratio_by_initialisations(curves)
    fig = Figure(layout="constrained", figsize=(11, 4.2))
    rho_ax, p_ax = fig.subplots(1, 2)
    for (problem, part), color in zip(table.groupby("problem"), ("#0072B2", "#D55E00"), strict=False):
        last = part.iloc[-1]
        label = f"{problem} ({int(last['converged'])} converged of {int(last['initialisations'])})"
        rho_ax.plot(part["initialisations"], part["rho"], "o-", color=color, label=label)
        p_ax.plot(part["initialisations"], part["p"], "o-", color=color, label=label)
    rho_ax.axhline(0, color="#999999", lw=0.8)
    p_ax.axhline(ALPHA, color="#999999", lw=0.8, ls=":", label=f"p = {ALPHA}")
    rho_ax.set(xlabel="initialisations", ylabel="Spearman ρ(loss, minimum ratio)")
    p_ax.set(xlabel="initialisations", ylabel="p-value", yscale="log")
    rho_ax.legend(fontsize="small")
    p_ax.legend(fontsize="small")
    fig.suptitle("Does the minimum ratio's correlation with the loss firm up with more initialisations?")
    return fig
