"""Keskar et al. 2017's sharp-minima claims: large-batch solutions are sharper than small-batch ones, by the
ε-sharpness, by random perturbations (the lecture's narrow ravine vs flat basin) and by the Hessian; and the
sharper the solution, the lower its test accuracy.

Decided by the one rule (`optfactors.decision`), seeds the unit, with each effect, threshold and side fixed
from the sentence before the committed tables were decided under it:

- the LB/SB claims, per network: the ratio LB / SB of the measure's geometric means over seeds, paired by
  seed (the same seed's SB and LB solutions), a paired t-interval on log values, exponentiated; ✓ above 1;
- ``sharper_solutions_generalize_worse``, per network: the partial Spearman correlation of ε-sharpness and
  test accuracy given the regime, its p from permuting test accuracies within regimes (the SB and LB
  clusters alone, LB both sharper and worse, could otherwise make the correlation); ✓ negative with
  p < 0.05. The correlation within each regime is shown beside it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from optfactors.decision import Decision, decide_rank, decide_rank_within
from optfactors.report.claims import ClaimResult, Effect, combined, register_claim
from optfactors.studies.common import plain, positive_ratio
from optfactors.studies.sharp_flat.tables import (
    analysis_rows,
    network_label,
    networks,
    sharpness_and_accuracy,
)

EXPERIMENT = "sharp_flat"

#: How the ratio effects read.
RATIO = "× (LB/SB)"


def _paired(frame: pd.DataFrame, value: str) -> dict[str, pd.DataFrame]:
    """Per network: one row per seed with columns sb and lb (``value`` of each regime's solution)."""
    pairs = {}
    for model in networks(frame):
        part = frame[frame["model"] == model].pivot_table(index="seed", columns="regime", values=value)
        if {"sb", "lb"} <= set(part.columns):
            pairs[model] = part[["sb", "lb"]].dropna()
    return pairs


def _geometric_mean(values: pd.Series) -> float:
    return float(np.exp(np.log(values).mean())) if (values > 0).all() else math.nan


def _no_interval(decision: Decision) -> str:
    return f", {decision.reason}" if math.isnan(decision.low) else ""


def _lb_above_sb(frame: pd.DataFrame, value: str, unit: str = "") -> tuple[list[str], tuple[Effect, ...]]:
    """Per network: "F1 (MNIST): LB/SB = 3.20 (geometric means 412 vs 128, LB > SB in 3/3 seeds)" and the
    effect: LB / SB of the same seeds, the ratio of geometric means with a paired t-interval on logs."""
    parts, effects = [], []
    for model, pair in _paired(frame, value).items():
        if pair.empty:  # no seed with both solutions analysed
            continue
        label, decision = network_label(frame, model), positive_ratio(pair["lb"], pair["sb"], paired=True)
        lb, sb = (plain(_geometric_mean(pair[regime])) + unit for regime in ("lb", "sb"))
        wins = int((pair["lb"] > pair["sb"]).sum())
        parts.append(
            f"{label}: LB/SB = {decision.effect:.2f} (geometric means {lb} vs {sb}, "
            f"LB > SB in {wins}/{len(pair)} seeds{_no_interval(decision)})"
        )
        effects.append(Effect(label, decision, RATIO, signed=False))
    return parts, tuple(effects)


def _at_largest_epsilon(runs: pd.DataFrame, curves: pd.DataFrame, space: str) -> pd.DataFrame:
    """The sharpness rows of ``space`` (full, subspace, adaptive) at the largest ε analysed in it."""
    frame = analysis_rows(runs, curves, "sharpness")
    if frame.empty:
        return frame
    frame = frame[frame["space"] == space]
    return frame[frame["epsilon"] == frame["epsilon"].max()]


#: How every LB/SB claim is decided (its detail's last sentence).
RATIO_RULE = (
    "Effect per network: LB / SB, the ratio of the geometric means over seeds, paired by seed (a paired "
    "t-interval on log values, exponentiated); ✓ if its interval lies above 1 for every network, ✗ if below "
    "1 for any."
)


def _result(parts: list[str], effects: tuple[Effect, ...], detail: str) -> ClaimResult:
    if not effects:
        return ClaimResult("no network with both SB and LB analysed", None, detail)
    return ClaimResult("; ".join(parts), combined(effects), detail, effects)


@register_claim(
    "lb_sharper_epsilon",
    lecture="Large-batch training converges to sharper minima: the ε-sharpness of LB solutions is far above "
    "SB's (Keskar et al., Table 3, full space, ε = 1e-3: F1 205.14 vs 1.23, C1 707.23 vs 28.58).",
)
def lb_sharper_epsilon(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """LB / SB ε-sharpness (full space, the largest ε analysed) per network, paired by seed; ✓ above 1."""
    frame = _at_largest_epsilon(runs, curves, "full")
    if frame.empty:
        return _result([], (), RATIO_RULE)
    parts, effects = _lb_above_sb(frame, "sharpness", " %")
    detail = (
        f"ε-sharpness (Keskar's Metric 2.1, L-BFGS-B, full space, ε = {frame['epsilon'].max():g}) on the "
        f"analysis training samples. {RATIO_RULE}"
    )
    return _result(parts, effects, detail)


@register_claim(
    "lb_sharper_adaptive_epsilon",
    lecture="The LB solutions stay sharper under the adaptive (scale-invariant) ε-sharpness (Kwon et al. "
    "2021; Andriushchenko et al. 2023), which a reparametrisation that rescales weights without changing "
    "the function cannot move (Dinh et al. 2017 show plain sharpness can be).",
)
def lb_sharper_adaptive_epsilon(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """LB / SB adaptive ε-sharpness (the largest ε analysed) per network, paired by seed; ✓ above 1."""
    frame = _at_largest_epsilon(runs, curves, "adaptive")
    if frame.empty:
        return _result([], (), RATIO_RULE)
    parts, effects = _lb_above_sb(frame, "sharpness", " %")
    detail = (
        f"Adaptive ε-sharpness: Keskar's Metric 2.1 over the box |δ_i| <= ε |θ_i| (ε = "
        f"{frame['epsilon'].max():g}, full space, L-BFGS-B in the normalised coordinates δ/|θ|). {RATIO_RULE}"
    )
    return _result(parts, effects, detail)


def _rho(decision: Decision) -> str:
    """``ρ = -0.86 (p = 0.0065, n = 8)``, or why there is none."""
    if decision.p is None:
        return f"no ρ ({decision.reason}, n = {decision.n})"
    return f"ρ = {decision.effect:+.2f} (p = {decision.p:.2g}, n = {decision.n})"


def _ranks(part: pd.DataFrame) -> tuple[Decision, str]:
    """The partial Spearman correlation of ε-sharpness and test accuracy given the regime (the effect), and
    the correlations within each regime as they read."""
    data = part[["sharpness_full", "test_acc", "regime"]].dropna()
    sharpness, accuracy, regime = data["sharpness_full"], data["test_acc"], data["regime"]
    partial = decide_rank(sharpness, accuracy, "negative", covariate=(regime == "lb").astype(float))
    within = decide_rank_within(sharpness, accuracy, regime, "negative")
    return partial, ", ".join(f"within {name.upper()} {_rho(d)}" for name, d in within.items())


@register_claim(
    "sharper_solutions_generalize_worse",
    lecture="Sharp minima generalize worse (Keskar et al., Section 3, the figure beside Table 2): across the "
    "trained models, the sharper the solution, the lower its test accuracy.",
)
def sharper_solutions_generalize_worse(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Partial Spearman ρ of ε-sharpness and test accuracy given the regime, per network; ✓ negative with
    p < 0.05 (permuted within regimes)."""
    frame = sharpness_and_accuracy(runs)
    detail = (
        "Effect per network, over every analysed SB and LB solution (seed x regime): the partial Spearman "
        "correlation between Keskar's ε-sharpness (full space, largest ε) and the solution's test accuracy "
        "(its source run, whole test set) given the regime, so that the SB and LB clusters alone cannot make "
        "it; its two-sided p from permuting test accuracies within regimes (exact over every such ordering "
        "up to 40,320). ✓ if ρ < 0 with p < 0.05 for every network, ✗ if ρ > 0 with p < 0.05 for any. The "
        "correlation within each regime (plain Spearman, exact p: 4 solutions cannot reach p < 0.05) is "
        "shown beside it, not part of the verdict."
    )
    if frame.empty:
        return ClaimResult("no analysed solution with its test accuracy", None, detail)
    parts, effects = [], []
    for model in networks(frame):
        part = frame[frame["model"] == model]
        partial, within = _ranks(part)
        label = network_label(part, model)
        parts.append(f"{label}: partial {_rho(partial)} given the regime; {within}")
        effects.append(Effect(label, partial))
    return ClaimResult("; ".join(parts), combined(tuple(effects)), detail, tuple(effects))


@register_claim(
    "lb_sharper_perturbation",
    lecture="Around an SB solution the loss stays low in every direction (a flat basin); around an LB "
    "solution it rises quickly (a narrow ravine): random perturbations raise LB's loss more.",
)
def lb_sharper_perturbation(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """LB / SB mean training-loss increase over the radii and random filter-normalised directions, per
    network, paired by seed; ✓ above 1."""
    frame = analysis_rows(runs, curves, "perturbation")
    if frame.empty:
        return _result([], (), RATIO_RULE)
    base = frame[frame["radius"] == 0].groupby(["run_key", "regime"])["loss"].mean().rename("base")
    frame = frame.join(base, on=["run_key", "regime"])
    frame["increase"] = frame["loss"] - frame["base"]
    rise = (
        frame[frame["radius"] > 0]
        .groupby(["model", "dataset", "seed", "regime"], as_index=False)["increase"]
        .mean()
    )
    parts, effects = _lb_above_sb(rise, "increase")
    radii = np.sort(frame["radius"].unique())
    detail = (
        f"Loss increase L(θ + r d) − L(θ) on the analysis training samples, averaged over the radii r from "
        f"{radii[radii > 0].min():g} to {radii.max():g} and {int(frame['direction'].nunique())} "
        f"filter-normalised random directions d (Li et al. 2018), one value per solution. {RATIO_RULE}"
    )
    return _result(parts, effects, detail)


@register_claim(
    "lb_larger_top_eigenvalue",
    lecture="Sharp minima have large Hessian eigenvalues: the top eigenvalue of the loss Hessian is larger "
    "at the LB solution than at the SB solution.",
)
def lb_larger_top_eigenvalue(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """LB / SB top Hessian eigenvalue (Lanczos) per network, paired by seed; ✓ above 1."""
    frame = analysis_rows(runs, curves, "hessian")
    if frame.empty:
        return _result([], (), RATIO_RULE)
    parts, effects = _lb_above_sb(frame, "top_eigenvalue")
    detail = (
        "Largest eigenvalue of the Hessian of the training loss on the analysis training samples (Lanczos "
        "on exact Hessian-vector products, BatchNorm in eval mode with statistics recomputed on those "
        f"samples). {RATIO_RULE}"
    )
    return _result(parts, effects, detail)
