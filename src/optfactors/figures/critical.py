"""Critical points: the minimum-ratio scatter, Hessian spectra, the saddle escape, and deeper plain vs
residual networks."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from optfactors.figures import register_figure
from optfactors.figures.toy import toy_rows
from optfactors.results import ok_runs

PROBLEMS = {"sinc": "sin(5πx)/(5πx), 1-16-16-1 tanh MLP", "mnist_small": "MNIST 7×7, 49-8-10 tanh MLP"}
NETWORKS = {
    (20, False): ("plain-20", "#56B4E9", "--"),
    (56, False): ("plain-56", "#0072B2", "-"),
    (20, True): ("ResNet-20", "#E69F00", "--"),
    (56, True): ("ResNet-56", "#D55E00", "-"),
}


def converged_points(curves: pd.DataFrame) -> pd.DataFrame:
    """The critical points whose gradient norm got below the threshold."""
    points = toy_rows(curves, "point")
    return points[points["converged"].astype(bool)] if not points.empty else points


@register_figure("critical_points", "critical_points")
def critical_points(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Per problem: training loss against minimum ratio at every converged critical point (the lecture's
    scatter), and the sorted Hessian eigenvalues of the stored spectra."""
    points, spectra = toy_rows(curves, "point"), toy_rows(curves, "spectrum")
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


@register_figure("saddle_escape", "saddle_escape")
def saddle_escape(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """(a) the loss along the most negative eigenvector u against ½λη²; (b) the loss of exact and noisy
    gradient descent started at the saddle."""
    saddle, taylor, descent = (toy_rows(curves, t) for t in ("saddle", "taylor", "descent"))
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


def depth_curves(runs: pd.DataFrame, curves: pd.DataFrame) -> dict[tuple[int, bool], pd.DataFrame]:
    """Per (depth, residual): the per-epoch mean over ok seeds of the training and validation curves."""
    ok = ok_runs(runs)
    found = {}
    for (depth, residual), part in ok.groupby(["model.depth", "model.residual"]):
        rows = curves[curves["run_key"].isin(part["run_key"])]
        found[(int(depth), bool(residual))] = rows.groupby("epoch")[
            ["train_loss", "train_acc", "val_acc"]
        ].mean()
    return found


@register_figure("depth", "depth")
def depth(runs: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Training error (left) and validation error (right) per epoch of plain and residual networks of depth
    20 and 56, mean over seeds (He et al. 2016, Figure 1 and 6)."""
    fig = Figure(layout="constrained", figsize=(11, 4.2))
    train_ax, val_ax = fig.subplots(1, 2)
    for key, curve in sorted(depth_curves(runs, curves).items(), key=lambda kv: (kv[0][1], kv[0][0])):
        label, color, style = NETWORKS.get(key, (f"depth {key[0]}, residual {key[1]}", "#999999", ":"))
        epochs = curve.index + 1
        train_ax.plot(epochs, 100 * (1 - curve["train_acc"]), style, color=color, label=label)
        val_ax.plot(epochs, 100 * (1 - curve["val_acc"]), style, color=color, label=label)
    train_ax.set(xlabel="epoch", ylabel="training error (%, epoch mean)")
    val_ax.set(xlabel="epoch", ylabel="validation error (%)")
    train_ax.legend(fontsize="small")
    widths = sorted(runs["model.width"].dropna().unique()) if "model.width" in runs else []
    subset = runs["data.subset"].dropna().unique() if "data.subset" in runs else []
    size = f"{int(subset[0]):,} training images" if len(subset) else "full training set"
    fig.suptitle(
        f"20 vs 56 layers, plain and residual (He et al. 2016; CIFAR-10, {size}, "
        f"first-stage width {', '.join(str(int(w)) for w in widths)})"
    )
    return fig
