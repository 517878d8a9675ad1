"""Critical points: the minimum-ratio scatter, Hessian spectra, the saddle escape, and deeper plain vs
residual networks."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.collect import stage_rows
from optfactors.report.figures import register_figure, register_table
from optfactors.report.summaries.critical import ALPHA, ratio_by_initialisations

PROBLEMS = {"sinc": "sin(5πx)/(5πx), 1-16-16-1 tanh MLP", "mnist_small": "MNIST 7×7, 49-8-10 tanh MLP"}


@register_figure("critical_points", "critical_points")
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


@register_table("ratio_trend", "critical_points")
def ratio_trend(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Per problem, over the first n initialisations: converged points, Spearman's ρ(loss, minimum ratio)
    over them and its p-value, and the initialisations p < 0.05 would need if ρ stayed there."""
    table = ratio_by_initialisations(curves)
    return table.assign(
        rho=table["rho"].round(3),
        p=table["p"].map(lambda p: f"{p:.2g}"),
        initialisations_needed=table["initialisations_needed"].map(lambda n: f"{n:,.0f}"),
    )


@register_figure("critical_points_trend", "critical_points")
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


@register_figure("saddle_escape", "saddle_escape")
def saddle_escape(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """(a) the loss along the most negative eigenvector u against ½λη²; (b) the loss of exact and noisy
    gradient descent started at the saddle."""
    saddle, taylor, descent = (stage_rows(curves, t) for t in ("saddle", "taylor", "descent"))
    fig = Figure(layout="constrained", figsize=(11, 4.2))
    ax, descent_ax = fig.subplots(1, 2)
    if saddle.empty:
        return fig
    point = saddle.iloc[0]
    ax.plot(taylor["eta"], taylor["loss_change"], "o", ms=4, color="#0072B2", label="L(θ + ηu) − L(θ)")
    ax.plot(
        taylor["eta"],
        taylor["predicted"],
        "-",
        color="#D55E00",
        label=f"½λη², λ = {point['min_eigenvalue']:.3g}",
    )
    ax.set(xlabel="η (step along the eigenvector u)", ylabel="loss change")
    ax.set_title("(a) the Hessian shows a way down", loc="left")
    ax.legend(fontsize="small")
    for variant, color in (("exact", "#000000"), ("noisy", "#D55E00")):
        path = descent[descent["variant"] == variant]
        noise = f", noise {runs['saddle.descent.noise'].iloc[0]:g}" if variant == "noisy" else ""
        descent_ax.plot(path["step"], path["loss"], color=color, label=f"{variant} GD{noise}")
    descent_ax.set(xlabel="update (full batch)", ylabel="training loss")
    descent_ax.set_title(f"(b) GD from the saddle (loss {point['loss']:.4g})", loc="left")
    descent_ax.legend(fontsize="small")
    counts = f"{int(point['negative'])} negative of {int(point['parameters'])} eigenvalues"
    fig.suptitle(f"Escaping a saddle point ({counts})")
    return fig
