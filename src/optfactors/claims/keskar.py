"""Keskar et al. 2017's claims: SB and LB reach similar training accuracy, but LB generalizes worse."""

from __future__ import annotations

import pandas as pd

from optfactors.claims import ClaimResult, register_claim
from optfactors.figures.keskar import sb_lb_summary
from optfactors.figures.style import display_name


def _pairs(runs: pd.DataFrame) -> list[tuple[str, pd.Series, pd.Series]]:
    """(network name, SB row, LB row) for every network with both regimes measured."""
    summary = sb_lb_summary(runs).set_index(["model", "regime"])
    models = summary.index.get_level_values("model").unique()
    return [
        (display_name(m), summary.loc[(m, "sb")], summary.loc[(m, "lb")])
        for m in models
        if (m, "sb") in summary.index and (m, "lb") in summary.index
    ]


def _std(value: float) -> float:
    return 0.0 if pd.isna(value) else float(value)


@register_claim(
    "keskar_gap",
    "sb_lb_similar_training_accuracy",
    lecture="Small-batch and large-batch training reach comparable training accuracy (Keskar et al., "
    "Table 2: all above 99.6 %); here: within 2 points of each other.",
)
def similar_training(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """SB vs LB mean train accuracy per network."""
    pairs = _pairs(runs)
    if not pairs:
        return ClaimResult("no network with both SB and LB runs", None)
    gaps = {name: sb["train_eval_acc_mean"] - lb["train_eval_acc_mean"] for name, sb, lb in pairs}
    measured = "; ".join(
        f"{name}: SB {sb['train_eval_acc_mean']:.2f} %, LB {lb['train_eval_acc_mean']:.2f} %"
        for name, sb, lb in pairs
    )
    return ClaimResult(
        measured,
        all(abs(g) <= 2 for g in gaps.values()),
        "Reproduced if |SB - LB| <= 2 points "
        "of training accuracy (the training set re-evaluated in eval mode) for every network.",
    )


@register_claim(
    "keskar_gap",
    "lb_lower_test_accuracy",
    lecture="Large-batch training generalizes worse: its test accuracy is lower than small-batch training's "
    "(Keskar et al., Table 2: by 0.2 to 2.8 points).",
)
def lb_generalizes_worse(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """SB - LB mean test accuracy per network, against the seed-to-seed noise."""
    pairs = _pairs(runs)
    if not pairs:
        return ClaimResult("no network with both SB and LB runs", None)
    parts, verdicts = [], []
    for name, sb, lb in pairs:
        gap = sb["test_acc_mean"] - lb["test_acc_mean"]
        noise = _std(sb["test_acc_std"]) + _std(lb["test_acc_std"])
        parts.append(f"{name}: gap {gap:+.2f} points (SB - LB), seed noise {noise:.2f}")
        verdicts.append(gap > noise)
    capped = runs[(runs["status"] == "ok") & (runs["epochs"] >= runs["trainer.max_epochs"])]
    capped_by_model = ", ".join(f"{display_name(m)} {n}" for m, n in capped.groupby("model").size().items())
    detail = (
        "Reproduced if, for every network, SB's mean test accuracy exceeds LB's by more than the sum of "
        "their seed standard deviations. Runs stopped by the epoch cap rather than by the training loss "
        f"ceasing to improve: {capped_by_model or 'none'}"
        f" (of {int((runs['status'] == 'ok').sum())})."
    )
    return ClaimResult("; ".join(parts), all(verdicts), detail)
