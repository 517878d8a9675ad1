"""Batch-size claims: the quick start, a small vs a large batch trained for the same number of epochs."""

from __future__ import annotations

import pandas as pd

from optfactors.report.claims import ClaimResult, register_claim
from optfactors.studies.common import (
    BATCH_SIZE,
    display_name,
    ok_runs,
)


@register_claim(
    "large_batch_lower_train_and_val_accuracy",
    lecture="With the same epochs, large batches give lower accuracy on the training set as well as on the "
    "validation set: an optimization issue, not overfitting (here: the largest batch >= 5 points below the "
    "best small batch on both).",
)
def large_batch_worse(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Per dataset: best mean accuracy over batch sizes vs the largest batch's, for train and validation."""
    ok = ok_runs(runs)
    if ok.empty:
        return ClaimResult("no ok runs", None)
    parts, verdicts = [], []
    for (data, model), group in ok.groupby(["dataset", "model"]):
        means = (100 * group[["train_eval_acc", "val_acc"]]).groupby(group[BATCH_SIZE]).mean()
        if len(means) < 2:
            continue
        drops = means.max() - means.iloc[-1]
        parts.append(
            f"{display_name(data)}/{display_name(model)}, batch {int(means.index[-1]):,}: "
            f"train {drops['train_eval_acc']:.1f} and val {drops['val_acc']:.1f} points below the best batch"
        )
        verdicts.append(bool((drops >= 5).all()))
    if not verdicts:
        return ClaimResult("fewer than two batch sizes per dataset", None)
    return ClaimResult(
        "; ".join(parts), all(verdicts), "Reproduced if both drops are >= 5 points on every dataset."
    )
