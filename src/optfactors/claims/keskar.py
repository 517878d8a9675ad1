"""Keskar et al. 2017's claims: SB and LB reach similar training accuracy, but LB generalizes worse."""

from __future__ import annotations

import pandas as pd

from optfactors.claims import ClaimResult, register_claim
from optfactors.figures.keskar import sb_lb_summary
from optfactors.figures.style import display_name


def _pairs(runs: pd.DataFrame) -> list[tuple[str, pd.Series, pd.Series, bool]]:
    """(network name, SB row, LB row, trained to the protocol) for every network with both regimes.

    Trained to the protocol: most of the network's runs stopped because the training loss stopped
    improving, not at the epoch cap; otherwise its comparison decides nothing.
    """
    summary = sb_lb_summary(runs).set_index(["model", "regime"])
    ok = runs[runs["status"] == "ok"]
    capped = (ok["epochs"] >= ok["trainer.max_epochs"]).groupby(ok["model"]).mean()
    models = summary.index.get_level_values("model").unique()
    return [
        (display_name(m), summary.loc[(m, "sb")], summary.loc[(m, "lb")], bool(capped.get(m, 0.0) <= 0.5))
        for m in models
        if (m, "sb") in summary.index and (m, "lb") in summary.index
    ]


def _std(value: float) -> float:
    return 0.0 if pd.isna(value) else float(value)


def _verdict(verdicts: list[bool | None]) -> bool | None:
    """✗ if any network contradicts the claim, — if any is undecided, ✓ if all support it."""
    if any(v is False for v in verdicts):
        return False
    return None if any(v is None for v in verdicts) else True


CAPPED = "stopped at the epoch cap: undecided"


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
    parts, verdicts = [], []
    for name, sb, lb, converged in pairs:
        train_sb, train_lb = sb["train_eval_acc_mean"], lb["train_eval_acc_mean"]
        parts.append(
            f"{name}: SB {train_sb:.2f} %, LB {train_lb:.2f} %" + ("" if converged else f" ({CAPPED})")
        )
        verdicts.append(abs(train_sb - train_lb) <= 2 if converged else None)
    detail = (
        "Reproduced if |SB - LB| <= 2 points of training accuracy (the training set re-evaluated after "
        "training) for every network trained until its training loss stopped improving; a network whose "
        "runs mostly stopped at the epoch cap leaves the claim undecided."
    )
    return ClaimResult("; ".join(parts), _verdict(verdicts), detail)


@register_claim(
    "keskar_gap",
    "lb_lower_test_accuracy",
    lecture="Large-batch training generalizes worse: its test accuracy is lower than small-batch training's "
    "(Keskar et al., Table 2: by 0.2 to 2.8 points).",
)
def lb_generalizes_worse(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """SB - LB mean test accuracy per network, with the gap's standard deviation over seeds."""
    pairs = _pairs(runs)
    if not pairs:
        return ClaimResult("no network with both SB and LB runs", None)
    parts, verdicts = [], []
    for name, sb, lb, converged in pairs:
        gap = sb["test_acc_mean"] - lb["test_acc_mean"]
        gap_std = (_std(sb["test_acc_std"]) ** 2 + _std(lb["test_acc_std"]) ** 2) ** 0.5
        parts.append(
            f"{name}: gap {gap:+.2f} ± {gap_std:.2f} points (SB - LB)" + ("" if converged else f" ({CAPPED})")
        )
        verdicts.append(bool(gap > gap_std) if converged else None)
    detail = (
        "Reproduced if, for every network trained until its training loss stopped improving, SB's mean test "
        "accuracy exceeds LB's by more than the gap's seed standard deviation (sqrt(std_SB^2 + std_LB^2)); "
        "a network whose runs mostly stopped at the epoch cap leaves the claim undecided."
    )
    return ClaimResult("; ".join(parts), _verdict(verdicts), detail)
