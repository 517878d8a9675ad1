"""Keskar et al. 2017's claims: SB and LB reach similar training accuracy, but LB generalizes worse.

The criterion (fixed before any data of the gap search was seen): for every network, at least
:data:`MIN_SEEDS` seeds per regime, no run stopped at the epoch cap (each ran until its training loss
reached the target or stopped improving), training accuracies of SB and LB within
:data:`TRAIN_TOLERANCE` points, and a test-accuracy gap SB - LB above twice its seed standard deviation
``sqrt(std_SB^2 + std_LB^2)``."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from optfactors.report.claims import ClaimResult, every_network, register_claim
from optfactors.studies.common import (
    display_name,
    seed_std,
)
from optfactors.studies.keskar_gap.tables import capped_runs, sb_lb_summary

#: Seeds per regime a network needs before its comparison decides anything.
MIN_SEEDS = 4


#: |SB - LB| training accuracy (points) that counts as "similar".
TRAIN_TOLERANCE = 1.0


#: The gap must exceed this many seed standard deviations of the gap.
GAP_SIGMAS = 2.0


@dataclass(frozen=True)
class Pair:
    """SB and LB summary rows of one network, and why its comparison is undecided (None: it decides)."""

    name: str
    sb: pd.Series
    lb: pd.Series
    undecided: str | None

    @property
    def gap(self) -> float:
        return float(self.sb["test_acc_mean"] - self.lb["test_acc_mean"])

    @property
    def gap_std(self) -> float:
        return (seed_std(self.sb["test_acc_std"]) ** 2 + seed_std(self.lb["test_acc_std"]) ** 2) ** 0.5


def pairs(runs: pd.DataFrame) -> list[Pair]:
    """A :class:`Pair` for every network (dataset, model) with both regimes."""
    summary = sb_lb_summary(runs).set_index(["data", "model", "regime"])
    capped = capped_runs(runs)
    found = []
    for data, model in dict.fromkeys((d, m) for d, m, _ in summary.index):
        if (data, model, "sb") not in summary.index or (data, model, "lb") not in summary.index:
            continue
        sb, lb = summary.loc[(data, model, "sb")], summary.loc[(data, model, "lb")]
        n_capped = sum(int(capped.get((data, model, regime), 0)) for regime in ("sb", "lb"))
        seeds = int(min(sb["seeds"], lb["seeds"]))
        undecided = None
        if n_capped:
            undecided = f"{n_capped} run(s) stopped at the epoch cap: undecided"
        elif seeds < MIN_SEEDS:
            undecided = f"{seeds} seed(s), {MIN_SEEDS} needed: undecided"
        found.append(Pair(f"{display_name(model)} ({display_name(data)})", sb, lb, undecided))
    return found


def _note(pair: Pair) -> str:
    return f" ({pair.undecided})" if pair.undecided else ""


@register_claim(
    "sb_lb_similar_training_accuracy",
    lecture="Small-batch and large-batch training reach comparable training accuracy (Keskar et al., "
    "Table 2: all above 99.6 %); here: within 1 point of each other.",
)
def similar_training(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """SB vs LB mean train accuracy per network."""
    found = pairs(runs)
    if not found:
        return ClaimResult("no network with both SB and LB runs", None)
    parts, verdicts = [], []
    for pair in found:
        train_sb, train_lb = pair.sb["train_eval_acc_mean"], pair.lb["train_eval_acc_mean"]
        parts.append(f"{pair.name}: SB {train_sb:.2f} %, LB {train_lb:.2f} %{_note(pair)}")
        verdicts.append(None if pair.undecided else bool(abs(train_sb - train_lb) <= TRAIN_TOLERANCE))
    detail = (
        f"Reproduced if |SB - LB| <= {TRAIN_TOLERANCE:g} point of training accuracy (the training set "
        "re-evaluated after training) for every network, each with at least "
        f"{MIN_SEEDS} seeds per regime and no run stopped at the epoch cap (every run trained until its "
        "training loss reached the target or stopped improving); otherwise undecided."
    )
    return ClaimResult("; ".join(parts), every_network(verdicts), detail)


@register_claim(
    "lb_lower_test_accuracy",
    lecture="Large-batch training generalizes worse: its test accuracy is lower than small-batch training's "
    "(Keskar et al., Table 2: by 0.2 to 2.8 points).",
)
def lb_generalizes_worse(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """SB - LB mean test accuracy per network, against twice the gap's standard deviation over seeds."""
    found = pairs(runs)
    if not found:
        return ClaimResult("no network with both SB and LB runs", None)
    parts, verdicts = [], []
    for pair in found:
        bar = GAP_SIGMAS * pair.gap_std
        passed = None if pair.undecided else bool(pair.gap > bar)
        parts.append(
            f"{pair.name}: gap {pair.gap:+.3f} ± {pair.gap_std:.3f} points (SB - LB, "
            f"{int(min(pair.sb['seeds'], pair.lb['seeds']))} seeds; needs > {bar:.3f}"
            + ("" if passed is None else f": {'yes' if passed else 'no'}")
            + f"){_note(pair)}"
        )
        verdicts.append(passed)
    detail = (
        f"Reproduced if, for every network, SB's mean test accuracy exceeds LB's by more than {GAP_SIGMAS:g} "
        "times the gap's seed standard deviation (sqrt(std_SB^2 + std_LB^2)), with at least "
        f"{MIN_SEEDS} seeds per regime and no run stopped at the epoch cap; otherwise undecided."
    )
    return ClaimResult("; ".join(parts), every_network(verdicts), detail)
