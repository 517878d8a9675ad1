"""large_batch_remedies' claims: some remedy closes at least half the large-batch gap, and the remedies that
do also find flatter solutions.

Criteria (fixed before the study's first run): the gap is the references' SB - LB mean test accuracy and must
exceed :data:`GAP_SIGMAS` seed standard deviations, each reference and remedy with at least
:data:`MIN_SEEDS` ok seeds, else undecided. A remedy *closes* a share ``(acc - LB) / (SB - LB)`` of the gap
(means); it counts as closing half when that share is at least :data:`HALF` and its lead over LB exceeds
:data:`GAP_SIGMAS` standard deviations of the difference. A solution is *flatter* when its mean ε-sharpness
is below LB's."""

from __future__ import annotations

import math

import pandas as pd

from optfactors.report.claims import ClaimResult, register_claim
from optfactors.studies.common import (
    seed_std,
)
from optfactors.studies.large_batch_remedies.tables import LB, SB, remedy_summary

MIN_SEEDS = 3


GAP_SIGMAS = 2.0


HALF = 0.5


def _lead_std(a: pd.Series, b: pd.Series) -> float:
    return math.hypot(seed_std(a["test_acc_std"]), seed_std(b["test_acc_std"]))


def _undecided(summary: pd.DataFrame) -> str | None:
    """Why the gap cannot be judged (None: it can)."""
    refs = summary.set_index("remedy") if not summary.empty else pd.DataFrame()
    if SB not in refs.index or LB not in refs.index:
        return "both references (small_batch, large_batch) are needed"
    sb, lb = refs.loc[SB], refs.loc[LB]
    if min(sb["seeds"], lb["seeds"]) < MIN_SEEDS:
        return f"the references need {MIN_SEEDS} ok seeds each"
    gap = sb["test_acc_mean"] - lb["test_acc_mean"]
    if not gap > GAP_SIGMAS * _lead_std(sb, lb):
        return f"no gap to close: SB - LB = {gap:+.2f} points, needs > {GAP_SIGMAS * _lead_std(sb, lb):.2f}"
    return None


def closers(summary: pd.DataFrame) -> list[str]:
    """The remedies (with enough seeds) that close at least half the gap, their lead over LB significant."""
    lb = summary.set_index("remedy").loc[LB]
    found = []
    for _, row in summary[~summary["remedy"].isin([SB, LB])].iterrows():
        lead = row["test_acc_mean"] - lb["test_acc_mean"]
        if row["seeds"] >= MIN_SEEDS and row["gap_closed"] >= HALF and lead > GAP_SIGMAS * _lead_std(row, lb):
            found.append(row["remedy"])
    return found


def _shares(summary: pd.DataFrame) -> str:
    rows = summary[~summary["remedy"].isin([SB, LB])]
    return ", ".join(
        f"{r.remedy} {100 * r.gap_closed:.0f} %"
        if r.seeds >= MIN_SEEDS
        else f"{r.remedy} ({r.seeds} ok seeds)"
        for r in rows.itertuples()
    )


@register_claim(
    "a_remedy_closes_half_the_gap",
    lecture="The large-batch gap can be closed: linear lr scaling with warm-up (Goyal et al. 2017), training "
    "longer with ghost batch norm (Hoffer et al. 2017), SAM, SWA, LARS/LAMB each recover SB's test accuracy "
    "in their papers; here: at least one closes >= 50 % of the SB-LB test-accuracy gap.",
)
def a_remedy_closes_half_the_gap(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    summary = remedy_summary(runs)
    detail = (
        "Reproduced if some remedy's share of the gap closed, (acc - LB) / (SB - LB) on mean test "
        f"accuracies, is >= {HALF:.0%} and its lead over LB exceeds {GAP_SIGMAS:g} seed standard "
        f"deviations, with >= {MIN_SEEDS} ok seeds; undecided without a significant SB-LB gap."
    )
    if (why := _undecided(summary)) is not None:
        return ClaimResult(why, None, detail)
    refs = summary.set_index("remedy")
    gap = refs.loc[SB, "test_acc_mean"] - refs.loc[LB, "test_acc_mean"]
    found = closers(summary)
    measured = f"gap SB - LB {gap:.2f} points; closed: {_shares(summary)}" + (
        f"; >= half: {', '.join(found)}" if found else "; none closes half"
    )
    return ClaimResult(measured, bool(found), detail)


@register_claim(
    "gap_closing_remedies_are_flatter",
    lecture="If sharp minima cause the gap, the remedies that close it should find flatter minima: here "
    "every remedy closing >= 50 % of the gap has a lower mean ε-sharpness than LB.",
)
def gap_closing_remedies_are_flatter(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    summary = remedy_summary(runs)
    detail = (
        "Reproduced if every remedy that closes half the gap (see a_remedy_closes_half_the_gap) has a lower "
        "mean ε-sharpness (1e-3, random 100-D subspace) than the LB reference; the top Hessian eigenvalue is "
        "reported beside it. Undecided if no remedy closes half the gap."
    )
    if (why := _undecided(summary)) is not None:
        return ClaimResult(why, None, detail)
    found = closers(summary)
    if not found:
        return ClaimResult("no remedy closes half the gap", None, detail)
    refs = summary.set_index("remedy")
    lb = refs.loc[LB]
    parts = [f"LB: ε-sharpness {lb['epsilon_sharpness']:.3g}, top eigenvalue {lb['top_eigenvalue']:.3g}"]
    verdicts = []
    for remedy in found:
        row = refs.loc[remedy]
        flatter = bool(row["epsilon_sharpness"] < lb["epsilon_sharpness"])
        verdicts.append(flatter)
        parts.append(
            f"{remedy}: {row['epsilon_sharpness']:.3g} ({'flatter' if flatter else 'not flatter'}), "
            f"top eigenvalue {row['top_eigenvalue']:.3g}"
        )
    return ClaimResult("; ".join(parts), all(verdicts), detail)
