"""The lecture's loss claim: cross-entropy trains faster than MSE with SGD; Adam shrinks the gap."""

from __future__ import annotations

import pandas as pd

from optfactors.report.claims import ClaimResult, register_claim
from optfactors.studies.common import (
    display_name,
    ok_runs,
)


@register_claim(
    "ce_trains_faster_than_mse",
    lecture="For classification, cross-entropy trains faster than mean square error with SGD (MSE's surface "
    "is "
    "flat where the prediction is wrong); with Adam the difference shrinks.",
)
def ce_trains_faster(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Mean training accuracy over the epochs (the area under the training curve), CE - MSE, per optimizer."""
    ok = ok_runs(runs)
    per_run = curves.merge(ok[["run_key", "optimizer", "loss"]], on="run_key")
    area = 100 * per_run.groupby(["optimizer", "loss"])["train_acc"].mean()
    gaps = {}
    for optimizer in ("sgd", "adam"):
        if (optimizer, "cross_entropy") in area.index and (optimizer, "mse") in area.index:
            gaps[optimizer] = area[(optimizer, "cross_entropy")] - area[(optimizer, "mse")]
    detail = (
        "Training accuracy (running mean per epoch) averaged over all epochs and seeds, i.e. how "
        "fast it rises; "
        "gap = cross-entropy − MSE. Reproduced if SGD's gap is positive and Adam's is smaller than SGD's."
    )
    if len(gaps) < 2:
        return ClaimResult("needs SGD and Adam with both losses", None, detail)
    measured = "; ".join(
        f"{display_name(o)}: CE {area[(o, 'cross_entropy')]:.2f} %, MSE {area[(o, 'mse')]:.2f} % "
        f"(gap {gaps[o]:+.2f} points)"
        for o in ("sgd", "adam")
    )
    return ClaimResult(measured, bool(gaps["sgd"] > 0 and gaps["adam"] < gaps["sgd"]), detail)
