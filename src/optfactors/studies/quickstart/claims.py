"""Batch-size claims: the quick start, a small vs a large batch trained for the same number of epochs,
decided by the one rule (optfactors.decision) over seeds."""

from __future__ import annotations

import pandas as pd

from optfactors.decision import decide_contrast
from optfactors.report.claims import ClaimResult, Effect, combined, register_claim
from optfactors.studies.common import (
    BATCH_SIZE,
    ok_runs,
    seeds_mean_std,
)


@register_claim(
    "quickstart_small_batch_better",
    lecture="With the same number of epochs, a small batch reaches higher validation/test accuracy than a "
    "large one (large batches make fewer updates and generalize worse).",
)
def small_batch_better(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Smallest minus largest batch size: test accuracy in points, one value per ok seed, Welch t; threshold
    0, side above (the small batch higher)."""
    detail = (
        "Effect: the smallest batch's test accuracy minus the largest's, in points, Welch t-interval over "
        "seeds (only runs with status ok count); ✓ if it lies above 0."
    )
    ok = ok_runs(runs).dropna(subset=["test_acc"])
    batches = sorted(int(b) for b in ok[BATCH_SIZE].unique())
    if len(batches) < 2:
        return ClaimResult(f"{len(batches)} batch size(s) with ok runs", None, detail)
    small, large = (
        (100 * ok.loc[ok[BATCH_SIZE] == b, "test_acc"]).to_numpy() for b in (batches[0], batches[-1])
    )
    decision = decide_contrast({f"batch {batches[0]:,}": small, f"batch {batches[-1]:,}": large})
    effect = Effect(f"batch {batches[0]:,} − batch {batches[-1]:,}", decision, "points")
    measured = (
        f"test acc. batch {batches[0]:,}: {seeds_mean_std(small)} % (n={len(small)}); batch {batches[-1]:,}: "
        f"{seeds_mean_std(large)} % (n={len(large)}); difference {decision.effect:+.2f} points"
    )
    return ClaimResult(measured, combined((effect,)), detail, (effect,))
