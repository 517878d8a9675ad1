"""critical_batch's claims (Shallue et al. 2019, McCandlish et al. 2018): updates to a target fall in
proportion to the batch size up to a knee, hardly at all beyond it, and the gradient noise scale predicts
where the knee lies.

Criteria (fixed before the study's first run). Per batch size the best learning rate of the grid (fewest
mean updates among rates whose every seed reached the target validation accuracy: picked on validation). The
knee B_crit is fitted: ``S(B) = S_min (1 + B_crit / B)`` by least squares on log S (`fit_knee`), so B_crit
is the batch at which the updates are twice their minimum. In that model a doubling from B <= B_crit / 4
saves >= 1.67x and one from B >= 4 B_crit < 1.12x; so on the measured updates: *below the knee* every
doubling from B <= B_crit / 4 must save at least :data:`PERFECT` x, *above it* every doubling from
B >= 4 B_crit less than :data:`NO_GAIN` x (undecided where no measured doubling falls in the range), and
B_simple (at the target, `b_simple_at_target`) must lie within a factor :data:`FACTOR` of B_crit.

Under the one rule (optfactors.decision) seeds are the units: a doubling's speed-up is a ratio of geometric
means of the seeds' updates at B and 2B (Welch t on logs), and B_simple / B_crit a ratio paired per seed
(each seed's B_simple over the knee fitted to its own updates). The fit and the median are exact functions of
the updates; the updates are not: they rest on seeds, and with one seed there is no interval (—)."""

from __future__ import annotations

import math

import pandas as pd

from optfactors.decision import decide_ratio
from optfactors.report.claims import ClaimResult, Effect, combined, register_claim
from optfactors.studies.critical_batch.tables import (
    b_simple_at_target,
    b_simple_per_seed,
    best_per_batch,
    best_rate_runs,
    doublings,
    fit_knee,
    knee_per_seed,
)

PERFECT, NO_GAIN, FACTOR = 1.6, 1.2, 4.0


KNEE_DEFINITION = "knee B_crit from S(B) = S_min (1 + B_crit / B) fitted to the best-rate updates"


def _knee(runs: pd.DataFrame) -> tuple[pd.DataFrame, float | None]:
    best = best_per_batch(runs)
    fitted = fit_knee(best)
    return best, None if fitted is None else fitted[1]


def _seeds(best: pd.DataFrame) -> str:
    seeds = sorted(set(best["seeds"]))
    return "one seed: no interval" if seeds == [1] else f"{'/'.join(map(str, seeds))} seeds per batch size"


def _speedup(steps: pd.DataFrame, batch: int, bound: float, side: str) -> Effect:
    """The doubling from ``batch``: its seeds' updates at ``batch`` over those at twice it."""
    at = (steps.loc[steps["batch_size"] == b, "steps"] for b in (batch, 2 * batch))
    return Effect(f"{batch}->{2 * batch}", decide_ratio(*at, bound, side), "x", signed=False)


def _regime(runs: pd.DataFrame, below: bool) -> ClaimResult:
    best, b_crit = _knee(runs)
    bound, side = (PERFECT, "above") if below else (NO_GAIN, "below")
    where = "B <= B_crit / 4" if below else "B >= 4 B_crit"
    detail = (
        f"Effect per doubling from {where} ({KNEE_DEFINITION}): updates to the target at B over 2B at the "
        f"best rates, ratio of geometric means over seeds, Welch t on logs; reproduced if every one lies "
        f"{side} {bound:g}x. The knee is an exact fit to the mean updates; the updates rest on seeds."
    )
    if b_crit is None:
        return ClaimResult(f"{len(best)} batch sizes reached the target, 4 needed for the knee", None, detail)
    pairs = doublings(best)
    inside = pairs[pairs["batch_size"] <= b_crit / 4] if below else pairs[pairs["batch_size"] >= 4 * b_crit]
    head = f"B_crit = {b_crit:.0f} ({_seeds(best)})"
    if inside.empty:
        return ClaimResult(f"{head}; no measured doubling from {where}", None, detail)
    steps = best_rate_runs(runs, best)
    effects = tuple(_speedup(steps, b, bound, side) for b in inside["batch_size"].astype(int))
    speedups = ", ".join(f"{e.label}: {e.decision.effect:.2f}x" for e in effects)
    return ClaimResult(f"{head}; {speedups}", combined(effects), detail, effects)


@register_claim(
    "perfect_scaling_below_the_knee",
    lecture="Up to a critical batch size, doubling the batch halves the number of updates needed (Shallue "
    "et al. 2019, Fig. 1: perfect scaling); here: every doubling well below the knee saves >= 1.6x.",
)
def perfect_scaling_below_the_knee(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    return _regime(runs, below=True)


@register_claim(
    "diminishing_returns_above_the_knee",
    lecture="Beyond the critical batch size a larger batch hardly reduces the updates (Shallue et al.: "
    "diminishing returns, then maximal data parallelism); here: every doubling well above the knee saves "
    "< 1.2x.",
)
def diminishing_returns_above_the_knee(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    return _regime(runs, below=False)


@register_claim(
    "noise_scale_predicts_the_knee",
    lecture="The gradient noise scale B_simple = tr(Σ) / |G|² predicts the critical batch size (McCandlish "
    "et al. 2018); here: B_simple at the target lies within a factor 4 of the measured knee.",
)
def noise_scale_predicts_the_knee(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    detail = (
        "Effect: B_simple / B_crit paired per seed (each seed's B_simple, the median over its probed runs "
        "of their last measurement before reaching the target, over the knee fitted to its own updates at "
        f"the best rates: {KNEE_DEFINITION}), ratio of geometric means, paired t on logs; reproduced if it "
        f"lies within a factor {FACTOR:g} ({1 / FACTOR:g} to {FACTOR:g})."
    )
    best, b_crit = _knee(runs)
    b_simple = b_simple_at_target(runs)
    if b_crit is None or math.isnan(b_simple):
        return ClaimResult("no knee or no B_simple measured before the target", None, detail)
    per_seed = pd.concat([b_simple_per_seed(runs), knee_per_seed(runs, best)], axis=1, join="inner")
    ratio = decide_ratio(
        per_seed["b_simple"], per_seed["b_crit"], (1 / FACTOR, FACTOR), "within", paired=True
    )
    effects = (Effect("B_simple / B_crit", ratio, "x", signed=False),)
    measured = f"B_simple {b_simple:.0f}, B_crit {b_crit:.0f}: ratio {b_simple / b_crit:.2f} ({_seeds(best)})"
    return ClaimResult(measured, combined(effects), detail, effects)
