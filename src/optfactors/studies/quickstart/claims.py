"""Batch-size claims: the quick start, a small vs a large batch trained for the same number of epochs."""

from __future__ import annotations

import pandas as pd

from optfactors.report.claims import ClaimResult, register_claim
from optfactors.studies.common import (
    BATCH_SIZE,
    ok_runs,
)


@register_claim(
    "quickstart_small_batch_better",
    lecture="With the same number of epochs, a small batch reaches higher validation/test accuracy than a "
    "large one (large batches make fewer updates and generalize worse).",
)
def small_batch_better(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Smallest vs largest batch size: mean test accuracy over seeds (ok runs only), ± seed std."""
    ok = ok_runs(runs).dropna(subset=["test_acc"])
    acc = (100 * ok["test_acc"]).groupby(ok[BATCH_SIZE]).agg(["mean", "std", "count"])
    if len(acc) < 2:
        return ClaimResult(
            f"{len(acc)} batch size(s) with ok runs", None, "Needs ok runs at two or more batch sizes."
        )
    acc["std"] = acc["std"].fillna(0.0)  # a single seed has no spread
    small, large = acc.iloc[0], acc.iloc[-1]
    diff, margin = small["mean"] - large["mean"], small["std"] + large["std"]
    measured = (
        f"test acc. batch {int(acc.index[0]):,}: {small['mean']:.2f} ± {small['std']:.2f} % "
        f"(n={small['count']:.0f}); batch {int(acc.index[-1]):,}: {large['mean']:.2f} ± "
        f"{large['std']:.2f} % (n={large['count']:.0f}); difference {diff:+.2f} points"
    )
    detail = (
        "Reproduced if the smallest batch's mean test accuracy exceeds the largest's by more than "
        f"the sum of their seed standard deviations ({margin:.2f} points here); only runs with status "
        "ok count."
    )
    return ClaimResult(measured, bool(diff > margin), detail)
