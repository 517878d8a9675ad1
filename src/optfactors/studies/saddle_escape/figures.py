"""Critical points: the minimum-ratio scatter, Hessian spectra, the saddle escape, and deeper plain vs
residual networks."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.figures import register_figure
from optfactors.studies.common import (
    stage_rows,
)


@register_figure("saddle_escape")
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
