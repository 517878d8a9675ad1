"""Keskar et al. 2017's sharp-minima claims: large-batch solutions are sharper than small-batch ones, by the
ε-sharpness, by random perturbations (the lecture's narrow ravine vs flat basin) and by the Hessian."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optfactors.report.claims import ClaimResult, every_network, register_claim
from optfactors.studies.sharp_flat.tables import (
    MEASURES,
    analysis_rows,
    network_label,
    networks,
    rank_correlation,
    sharpness_and_accuracy,
)

EXPERIMENT = "sharp_flat"


def _paired(frame: pd.DataFrame, value: str) -> dict[str, pd.DataFrame]:
    """Per network: one row per seed with columns sb and lb (``value`` of each regime's solution)."""
    pairs = {}
    for model in networks(frame):
        part = frame[frame["model"] == model].pivot_table(index="seed", columns="regime", values=value)
        if {"sb", "lb"} <= set(part.columns):
            pairs[model] = part[["sb", "lb"]].dropna()
    return pairs


def _lb_above_sb(frame: pd.DataFrame, value: str, unit: str = "") -> tuple[list[str], list[bool]]:
    """Per network: "F1 (MNIST): LB/SB = 3.2 (412 vs 128, LB > SB in 3/3 seeds)" and whether LB > SB in
    every seed."""
    parts, verdicts = [], []
    for model, pair in _paired(frame, value).items():
        if pair.empty:  # no seed with both solutions analysed
            continue
        sb, lb = pair["sb"].mean(), pair["lb"].mean()
        wins = int((pair["lb"] > pair["sb"]).sum())
        ratio = f"{lb / sb:.1f}" if sb > 0 else "inf"
        parts.append(
            f"{network_label(frame, model)}: LB/SB = {ratio} ({lb:.3g}{unit} vs {sb:.3g}{unit}, "
            f"LB > SB in {wins}/{len(pair)} seeds)"
        )
        verdicts.append(wins == len(pair))
    return parts, verdicts


def _at_largest_epsilon(runs: pd.DataFrame, curves: pd.DataFrame, space: str) -> pd.DataFrame:
    """The sharpness rows of ``space`` (full, subspace, adaptive) at the largest ε analysed in it."""
    frame = analysis_rows(runs, curves, "sharpness")
    if frame.empty:
        return frame
    frame = frame[frame["space"] == space]
    return frame[frame["epsilon"] == frame["epsilon"].max()]


def _result(parts: list[str], verdicts: list[bool], detail: str) -> ClaimResult:
    if not verdicts:
        return ClaimResult("no network with both SB and LB analysed", None, detail)
    return ClaimResult("; ".join(parts), all(verdicts), detail)


@register_claim(
    "lb_sharper_epsilon",
    lecture="Large-batch training converges to sharper minima: the ε-sharpness of LB solutions is far above "
    "SB's (Keskar et al., Table 3, full space, ε = 1e-3: F1 205.14 vs 1.23, C1 707.23 vs 28.58).",
)
def lb_sharper_epsilon(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """LB vs SB ε-sharpness, full space, the largest ε analysed, per network and seed."""
    frame = _at_largest_epsilon(runs, curves, "full")
    if frame.empty:
        return _result([], [], "")
    parts, verdicts = _lb_above_sb(frame, "sharpness", " %")
    detail = (
        f"ε-sharpness (Keskar's Metric 2.1, L-BFGS-B, full space, ε = {frame['epsilon'].max():g}) on the "
        "analysis training samples. Reproduced if the LB solution is sharper than the SB solution of the "
        "same seed for every seed of every network; the ratio is of the means over seeds."
    )
    return _result(parts, verdicts, detail)


@register_claim(
    "lb_sharper_adaptive_epsilon",
    lecture="The LB solutions stay sharper under the adaptive (scale-invariant) ε-sharpness (Kwon et al. "
    "2021; Andriushchenko et al. 2023), which a reparametrisation that rescales weights without changing "
    "the function cannot move (Dinh et al. 2017 show plain sharpness can be).",
)
def lb_sharper_adaptive_epsilon(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """LB vs SB adaptive ε-sharpness, the largest ε analysed, per network and seed."""
    frame = _at_largest_epsilon(runs, curves, "adaptive")
    if frame.empty:
        return _result([], [], "")
    parts, verdicts = _lb_above_sb(frame, "sharpness", " %")
    detail = (
        f"Adaptive ε-sharpness: Keskar's Metric 2.1 over the box |δ_i| <= ε |θ_i| (ε = "
        f"{frame['epsilon'].max():g}, full space, L-BFGS-B in the normalised coordinates δ/|θ|). Reproduced "
        "if the LB solution is sharper than the SB solution of the same seed for every seed of every network."
    )
    return _result(parts, verdicts, detail)


#: Solutions (seeds x regimes) a network needs before its rank correlation decides anything.
MIN_SOLUTIONS = 8


#: Significance level of the rank correlation.
ALPHA = 0.05


@register_claim(
    "sharper_solutions_generalize_worse",
    lecture="Sharp minima generalize worse (Keskar et al., Section 3, the figure beside Table 2): across the "
    "trained models, the sharper the solution, the lower its test accuracy.",
)
def sharper_solutions_generalize_worse(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Spearman's rho between ε-sharpness and test accuracy over every SB and LB solution, per network."""
    frame = sharpness_and_accuracy(runs)
    detail = (
        "Per network, over every analysed SB and LB solution (seed x regime): Spearman's rank correlation "
        "between Keskar's ε-sharpness (full space, largest ε) and the solution's test accuracy (its source "
        f"run, whole test set). Reproduced if rho < 0 with p < {ALPHA:g} for every network, each with at "
        f"least {MIN_SOLUTIONS} solutions (else undecided). The adaptive ε-sharpness and the top Hessian "
        "eigenvalue are given beside it, not part of the verdict."
    )
    if frame.empty:
        return ClaimResult("no analysed solution with its test accuracy", None, detail)
    parts, verdicts = [], []
    for model in networks(frame):
        part = frame[frame["model"] == model]
        stats = {measure: rank_correlation(part, measure) for measure in MEASURES}
        rho, p, n = stats["sharpness_full"]
        others = ", ".join(
            f"{MEASURES[m]} {r:+.2f} (p = {q:.2g})" for m, (r, q, _) in stats.items() if m != "sharpness_full"
        )
        parts.append(f"{network_label(part, model)}: rho = {rho:+.2f}, p = {p:.2g}, n = {n} ({others})")
        verdicts.append(None if n < MIN_SOLUTIONS or np.isnan(rho) else bool(rho < 0 and p < ALPHA))
    return ClaimResult("; ".join(parts), every_network(verdicts), detail)


@register_claim(
    "lb_sharper_perturbation",
    lecture="Around an SB solution the loss stays low in every direction (a flat basin); around an LB "
    "solution it rises quickly (a narrow ravine): random perturbations raise LB's loss more.",
)
def lb_sharper_perturbation(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Mean training-loss increase over the radii and random filter-normalised directions, LB vs SB."""
    frame = analysis_rows(runs, curves, "perturbation")
    if frame.empty:
        return _result([], [], "")
    base = frame[frame["radius"] == 0].groupby(["run_key", "regime"])["loss"].mean().rename("base")
    frame = frame.join(base, on=["run_key", "regime"])
    frame["increase"] = frame["loss"] - frame["base"]
    rise = (
        frame[frame["radius"] > 0]
        .groupby(["model", "dataset", "seed", "regime"], as_index=False)["increase"]
        .mean()
    )
    parts, verdicts = _lb_above_sb(rise, "increase")
    radii = np.sort(frame["radius"].unique())
    detail = (
        f"Loss increase L(θ + r d) − L(θ) on the analysis training samples, averaged over the radii r from "
        f"{radii[radii > 0].min():g} to {radii.max():g} and {int(frame['direction'].nunique())} "
        "filter-normalised random directions d (Li et al. 2018). Reproduced if LB's mean increase exceeds "
        "SB's in every seed of every network."
    )
    return _result(parts, verdicts, detail)


@register_claim(
    "lb_larger_top_eigenvalue",
    lecture="Sharp minima have large Hessian eigenvalues: the top eigenvalue of the loss Hessian is larger "
    "at the LB solution than at the SB solution.",
)
def lb_larger_top_eigenvalue(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Top Hessian eigenvalue (Lanczos) LB vs SB per network and seed."""
    frame = analysis_rows(runs, curves, "hessian")
    if frame.empty:
        return _result([], [], "")
    parts, verdicts = _lb_above_sb(frame, "top_eigenvalue")
    detail = (
        "Largest eigenvalue of the Hessian of the training loss on the analysis training samples (Lanczos "
        "on exact Hessian-vector products, BatchNorm in eval mode with statistics recomputed on those "
        "samples). Reproduced if LB's exceeds SB's in every seed of every network."
    )
    return _result(parts, verdicts, detail)
