"""critical_batch's claims (Shallue et al. 2019, McCandlish et al. 2018): updates to a target fall in
proportion to the batch size up to a knee, hardly at all beyond it, and the gradient noise scale predicts
where the knee lies.

Criteria (fixed before the study's first run). Per batch size the best learning rate of the grid (fewest
mean updates among rates whose every seed reached the target). The knee B_crit is fitted:
``S(B) = S_min (1 + B_crit / B)`` by least squares on log S (`fit_knee`), so B_crit is the batch at which
the updates are twice their minimum. In that model a doubling from B <= B_crit / 4 saves >= 1.67x and one
from B >= 4 B_crit < 1.12x; so on the measured updates: *below the knee* every doubling from
B <= B_crit / 4 must save at least :data:`PERFECT` x, *above it* every doubling from B >= 4 B_crit less
than :data:`NO_GAIN` x (undecided where no measured doubling falls in the range), and B_simple (at the
target, `b_simple_at_target`) must lie within a factor :data:`FACTOR` of B_crit."""

from __future__ import annotations

import math

import pandas as pd

from optfactors.report.claims import ClaimResult, register_claim
from optfactors.studies.critical_batch.tables import b_simple_at_target, best_per_batch, doublings, fit_knee

PERFECT, NO_GAIN, FACTOR = 1.6, 1.2, 4.0


KNEE_DEFINITION = "knee B_crit from S(B) = S_min (1 + B_crit / B) fitted to the best-rate updates"


def _knee(runs: pd.DataFrame) -> tuple[pd.DataFrame, float | None]:
    best = best_per_batch(runs)
    fitted = fit_knee(best)
    return best, None if fitted is None else fitted[1]


def _speedups(rows: pd.DataFrame) -> str:
    return ", ".join(
        f"{int(r.batch_size)}->{2 * int(r.batch_size)}: {r.speedup:.2f}x" for r in rows.itertuples()
    )


def _regime(runs: pd.DataFrame, below: bool) -> ClaimResult:
    best, b_crit = _knee(runs)
    bound, op = (PERFECT, ">=") if below else (NO_GAIN, "<")
    side = "B <= B_crit / 4" if below else "B >= 4 B_crit"
    detail = f"Reproduced if every doubling from {side} saves {op} {bound:g}x updates ({KNEE_DEFINITION})."
    if b_crit is None:
        return ClaimResult(f"{len(best)} batch sizes reached the target, 4 needed for the knee", None, detail)
    pairs = doublings(best)
    inside = pairs[pairs["batch_size"] <= b_crit / 4] if below else pairs[pairs["batch_size"] >= 4 * b_crit]
    head = f"B_crit = {b_crit:.0f}"
    if inside.empty:
        return ClaimResult(f"{head}; no measured doubling from {side}", None, detail)
    ok = inside["speedup"] >= bound if below else inside["speedup"] < bound
    return ClaimResult(f"{head}; {_speedups(inside)}", bool(ok.all()), detail)


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
        f"Reproduced if B_crit / {FACTOR:g} <= B_simple <= {FACTOR:g} B_crit, B_simple being the median over "
        "the probed runs of their last measurement before reaching the target "
        f"({KNEE_DEFINITION})."
    )
    _, b_crit = _knee(runs)
    b_simple = b_simple_at_target(runs)
    if b_crit is None or math.isnan(b_simple):
        return ClaimResult("no knee or no B_simple measured before the target", None, detail)
    ratio = b_simple / b_crit
    measured = f"B_simple {b_simple:.0f}, B_crit {b_crit:.0f}: ratio {ratio:.2f}"
    return ClaimResult(measured, bool(1 / FACTOR <= ratio <= FACTOR), detail)
