"""Keskar et al. 2017's claims: SB and LB reach similar training accuracy, but LB generalizes worse.

Both are decided per network by the one rule (`optfactors.decision`), seeds the unit (one run per seed and
regime, its final accuracy in points), with the effect, threshold and side fixed from each sentence before
the committed runs were decided under the rule:

- ``sb_lb_similar_training_accuracy``: SB - LB training accuracy (the training set re-evaluated after
  training), Welch t-interval inside the band ±:data:`TRAIN_TOLERANCE` points;
- ``lb_lower_test_accuracy``: SB - LB test accuracy, Welch t-interval above 0 points.

Preconditions, not effects (Keskar's protocol): no run stopped at the epoch cap, every run trained until its
training loss reached the target or stopped improving (both claims); and for the gap, training accuracies
within ±1 point, i.e. ``sb_lb_similar_training_accuracy`` ✓ for every network (a gap between runs that did not
fit the training set alike is not the paper's). A failed precondition leaves the verdict —.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

from optfactors.decision import Decision, decide_contrast
from optfactors.report.claims import ClaimResult, Effect, combined, register_claim
from optfactors.studies.keskar_gap.tables import Network, networks

#: Band (points) of SB - LB training accuracy that counts as "similar".
TRAIN_TOLERANCE = 1.0


def training_decision(network: Network) -> Decision:
    """SB - LB training accuracy (points), Welch t-interval, inside ±TRAIN_TOLERANCE for ✓."""
    band = (-TRAIN_TOLERANCE, TRAIN_TOLERANCE)
    return decide_contrast(network.percent("train_eval_acc"), threshold=band, side="within")


def gap_decision(network: Network) -> Decision:
    """SB - LB test accuracy (points), Welch t-interval, above 0 for ✓."""
    return decide_contrast(network.percent("test_acc"))


def _effects(found: list[Network], decide: Callable[[Network], Decision]) -> tuple[Effect, ...]:
    return tuple(Effect(network.label, decide(network), "points") for network in found)


def _capped(found: list[Network]) -> str | None:
    """The failed no-run-at-the-cap precondition (None: it holds)."""
    counts = [f"{network.label} {network.capped}" for network in found if network.capped]
    return f"runs stopped at the epoch cap ({', '.join(counts)}): undecided" if counts else None


def _untrained(found: list[Network]) -> str | None:
    """The failed similar-training precondition of the gap (None: it holds)."""
    networks_off = [network.label for network in found if training_decision(network).verdict is not True]
    if not networks_off:
        return None
    within = f"±{TRAIN_TOLERANCE:g} point"
    return f"training accuracies not shown within {within} ({', '.join(networks_off)}): undecided"


def _no_interval(decision: Decision) -> str:
    return f" ({decision.reason})" if math.isnan(decision.low) else ""


def _means(network: Network, column: str) -> str:
    sb, lb = (values.mean() for values in network.percent(column).values())
    return f"SB {sb:.2f} %, LB {lb:.2f} %"


@register_claim(
    "sb_lb_similar_training_accuracy",
    lecture="Small-batch and large-batch training reach comparable training accuracy (Keskar et al., "
    "Table 2: all above 99.6 %); here: within 1 point of each other.",
)
def similar_training(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """SB - LB training accuracy per network inside ±1 point; — with a run at the epoch cap."""
    found = networks(runs)
    detail = (
        f"Effect per network: SB - LB training accuracy (points, the training set re-evaluated after "
        f"training, one run per seed), Welch t-interval; ✓ inside [-{TRAIN_TOLERANCE:g}, "
        f"{TRAIN_TOLERANCE:g}] for every network. Precondition: no run stopped at the epoch cap (each "
        "trained until its training loss reached the target or stopped improving), else —."
    )
    if not found:
        return ClaimResult("no network with both SB and LB runs", None, detail)
    effects = _effects(found, training_decision)
    measured = "; ".join(
        f"{network.label}: {_means(network, 'train_eval_acc')}{_no_interval(effect.decision)}"
        for network, effect in zip(found, effects, strict=True)
    )
    if (why := _capped(found)) is not None:
        return ClaimResult(f"{measured}; {why}", None, f"{detail} Precondition failed: {why}.", effects)
    return ClaimResult(measured, combined(effects), detail, effects)


@register_claim(
    "lb_lower_test_accuracy",
    lecture="Large-batch training generalizes worse: its test accuracy is lower than small-batch training's "
    "(Keskar et al., Table 2: by 0.2 to 2.8 points).",
)
def lb_generalizes_worse(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """SB - LB test accuracy per network above 0 points; — with a run at the epoch cap or training accuracies
    not shown within 1 point."""
    found = networks(runs)
    detail = (
        "Effect per network: SB - LB test accuracy (points, one run per seed), Welch t-interval; ✓ above 0 "
        "for every network. Preconditions: no run stopped at the epoch cap, and SB and LB training "
        f"accuracies within ±{TRAIN_TOLERANCE:g} point (sb_lb_similar_training_accuracy ✓ for every "
        "network), else —."
    )
    if not found:
        return ClaimResult("no network with both SB and LB runs", None, detail)
    effects = _effects(found, gap_decision)
    measured = "; ".join(
        f"{network.label}: gap {effect.decision.effect:+.2f} points ({_means(network, 'test_acc')})"
        f"{_no_interval(effect.decision)}"
        for network, effect in zip(found, effects, strict=True)
    )
    if (why := _capped(found) or _untrained(found)) is not None:
        return ClaimResult(f"{measured}; {why}", None, f"{detail} Precondition failed: {why}.", effects)
    return ClaimResult(measured, combined(effects), detail, effects)
