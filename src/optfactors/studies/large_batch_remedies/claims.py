"""large_batch_remedies' claims: some remedy closes at least half the large-batch gap, and the remedies that
do also find flatter solutions.

Decided by the one rule (`optfactors.decision`), seeds the unit (one run per seed and remedy, diverged seeds
left out), with effects, thresholds and sides fixed from the sentences before the committed runs were decided
under it:

- ``a_remedy_closes_half_the_gap``: per remedy R, the test-accuracy contrast R - HALF·SB - (1 - HALF)·LB
  (points), above 0 exactly when R's mean closes at least :data:`HALF` of the gap SB - LB; Welch t-interval
  over the three groups of seeds (a closed form, where a bootstrap of the share (R - LB) / (SB - LB)
  undercovers with 3 seeds). ✓ if some remedy's interval lies above 0, ✗ if every remedy's lies below 0,
  else —.
- ``gap_closing_remedies_are_flatter``: for every remedy whose contrast is ✓, its ε-sharpness over LB's, the
  ratio of geometric means over seeds (Welch t-interval on log values); ✓ below 1 for every such remedy;
  — when no remedy is shown to close half.

Precondition of both (not an effect): a gap to close, SB - LB test accuracy above 0 (Welch t-interval), else
—.
"""

from __future__ import annotations

import pandas as pd

from optfactors.decision import Decision, decide_contrast
from optfactors.report.claims import ClaimResult, Effect, combined, register_claim
from optfactors.studies.common import plain, positive_ratio
from optfactors.studies.large_batch_remedies.tables import (
    LB,
    SB,
    SHARPNESS,
    TOP_EIGENVALUE,
    per_seed,
    remedy_summary,
)

#: The share of the gap a remedy must close.
HALF = 0.5

#: The precondition and how each verdict is combined, as the details say it.
PRECONDITION = (
    "Precondition: a gap to close, SB - LB mean test accuracy above 0 (Welch t-interval over seeds), else —."
)


def test_accuracy(runs: pd.DataFrame) -> dict[str, pd.Series]:
    """Per remedy: test accuracy (points) of each ok seed."""
    return per_seed(runs, "test_acc", 100.0)


def gap_decision(acc: dict[str, pd.Series]) -> Decision:
    """SB - LB test accuracy (points), Welch t-interval; the gap exists when it lies above 0."""
    return decide_contrast({"SB": acc[SB], "LB": acc[LB]})


def closing_decision(acc: dict[str, pd.Series], remedy: str) -> Decision:
    """R - HALF·SB - (1 - HALF)·LB test accuracy (points), Welch t-interval over the three groups of seeds;
    ✓ above 0 (R closes at least HALF of the gap)."""
    groups = {remedy: acc[remedy], "SB": acc[SB], "LB": acc[LB]}
    return decide_contrast(groups, (1.0, -HALF, HALF - 1.0))


def flatness_decision(sharpness: dict[str, pd.Series], remedy: str) -> Decision:
    """R / LB ε-sharpness, the ratio of geometric means over seeds (Welch t-interval on logs); ✓ below 1."""
    return positive_ratio(sharpness[remedy], sharpness[LB], 1.0, "below")


def _no_gap(acc: dict[str, pd.Series]) -> str | None:
    """Why the precondition fails (None: there is a gap to close)."""
    if SB not in acc or LB not in acc:
        return "both references (small_batch, large_batch) are needed"
    gap = gap_decision(acc)
    if gap.verdict is not True:
        return f"no gap to close: SB - LB {gap.text('points')} ({gap.reason})"
    return None


def _closing(acc: dict[str, pd.Series]) -> tuple[Effect, ...]:
    """Each remedy's closing contrast, in run order."""
    return tuple(Effect(r, closing_decision(acc, r), "points") for r in acc if r not in (SB, LB))


def some_remedy(effects: tuple[Effect, ...]) -> bool | None:
    """✓ if some effect is ✓, ✗ if every one is ✗ (and there is one), else —."""
    verdicts = [e.decision.verdict for e in effects]
    if any(v is True for v in verdicts):
        return True
    return False if verdicts and all(v is False for v in verdicts) else None


def _shares(runs: pd.DataFrame) -> str:
    """``lars 30 %, lamb 38 % (2 diverged)``: each remedy's share of the gap closed, on means."""
    rows = remedy_summary(runs)
    rows = rows[~rows["remedy"].isin([SB, LB])]
    return ", ".join(
        f"{r.remedy} {100 * r.gap_closed:.0f} %" + (f" ({r.diverged} diverged)" if r.diverged else "")
        for r in rows.itertuples()
    )


@register_claim(
    "a_remedy_closes_half_the_gap",
    lecture="The large-batch gap can be closed: linear lr scaling with warm-up (Goyal et al. 2017), training "
    "longer with ghost batch norm (Hoffer et al. 2017), SAM, SWA, LARS/LAMB each recover SB's test accuracy "
    "in their papers; here: at least one closes >= 50 % of the SB-LB test-accuracy gap.",
)
def a_remedy_closes_half_the_gap(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Per remedy R: R - ½ SB - ½ LB test accuracy above 0; ✓ for some remedy, ✗ if below 0 for every one."""
    detail = (
        f"Effect per remedy R: R - {HALF:g}·SB - {1 - HALF:g}·LB mean test accuracy (points; above 0 "
        f"exactly when R closes at least {100 * HALF:g} % of the SB - LB gap), Welch t-interval over the "
        "three groups of seeds, diverged seeds left out. ✓ if some remedy's interval lies above 0, ✗ if "
        f"every remedy's lies below 0, else —. {PRECONDITION} The share (R - LB) / (SB - LB) of mean "
        "accuracies is description."
    )
    acc = test_accuracy(runs)
    effects = _closing(acc) if {SB, LB} <= acc.keys() else ()
    if (why := _no_gap(acc)) is not None:
        return ClaimResult(why, None, f"{detail} Precondition failed: {why}.", effects)
    closers = [e.label for e in effects if e.decision.verdict]
    shown = f"closes half: {', '.join(closers)}" if closers else "none shown to close half"
    measured = f"gap SB - LB {gap_decision(acc).text('points')}; share closed: {_shares(runs)}; {shown}"
    return ClaimResult(measured, some_remedy(effects), detail, effects)


@register_claim(
    "gap_closing_remedies_are_flatter",
    lecture="If sharp minima cause the gap, the remedies that close it should find flatter minima: here "
    "every remedy closing >= 50 % of the gap has a lower mean ε-sharpness than LB.",
)
def gap_closing_remedies_are_flatter(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Per remedy shown to close half the gap: its ε-sharpness over LB's below 1; — if none is."""
    detail = (
        "Effect per remedy shown to close half the gap (its a_remedy_closes_half_the_gap contrast ✓): its "
        "ε-sharpness (1e-3, random 100-D subspace) over LB's, the ratio of geometric means over seeds "
        "(Welch t-interval on log values); ✓ if below 1 for every such remedy, ✗ if above 1 for any, — if "
        f"no remedy is shown to close half. {PRECONDITION} The top Hessian eigenvalue is reported beside it."
    )
    acc = test_accuracy(runs)
    if (why := _no_gap(acc)) is not None:
        return ClaimResult(why, None, f"{detail} Precondition failed: {why}.")
    closers = [e.label for e in _closing(acc) if e.decision.verdict]
    if not closers:
        return ClaimResult("no remedy shown to close half the gap", None, detail)
    sharpness, top = per_seed(runs, SHARPNESS), per_seed(runs, TOP_EIGENVALUE)
    effects = tuple(Effect(r, flatness_decision(sharpness, r), "× (R/LB)", signed=False) for r in closers)
    parts = [
        f"{r}: ε-sharpness {plain(sharpness[r].mean())}, top eigenvalue {plain(top[r].mean())} (means)"
        for r in (LB, *closers)
    ]
    return ClaimResult("; ".join(parts), combined(effects), detail, effects)
