"""Batch-size claims: the quick start, a small vs a large batch trained for the same number of epochs,
decided by the one rule (optfactors.decision) over seeds."""

from __future__ import annotations

import pandas as pd

from optfactors.decision import decide_contrast
from optfactors.report.claims import ClaimResult, Effect, combined, register_claim
from optfactors.studies.common import (
    BATCH_SIZE,
    display_name,
    ok_runs,
)

#: How far (points) the largest batch must fall below the picked small batch, on both accuracies.
DROP = 5.0
#: The accuracies the claim is about: column, label.
ACCURACIES = (("train_eval_acc", "train"), ("test_acc", "test"))


def _drops(group: pd.DataFrame, name: str) -> tuple[list[Effect], str] | None:
    """One network's effects (picked batch − largest batch, train and test accuracy) and a summary."""
    batches = sorted(group[BATCH_SIZE].unique())
    if len(batches) < 2:
        return None
    largest = batches[-1]
    smaller = group[group[BATCH_SIZE] != largest]
    picked = smaller.groupby(BATCH_SIZE)["val_acc"].mean().idxmax()
    effects, parts = [], []
    for column, label in ACCURACIES:
        seeds = {
            b: (100 * group.loc[group[BATCH_SIZE] == b, column].dropna()).to_numpy()
            for b in (picked, largest)
        }
        decision = decide_contrast({f"batch {int(b):,}": v for b, v in seeds.items()}, threshold=DROP)
        effects.append(Effect(f"{label} drop ({name})", decision, "points", digits=1))
        parts.append(f"{label} {decision.effect:.1f}")
    summary = f"{name}, batch {int(largest):,}: {' and '.join(parts)} points below batch {int(picked):,}"
    return effects, summary


@register_claim(
    "large_batch_lower_train_and_val_accuracy",
    lecture="With the same epochs, large batches give lower accuracy on the training set as well as on the "
    "validation set: an optimization issue, not overfitting (here: the largest batch >= 5 points below the "
    "small batch with the best validation accuracy, on training and on held-out test accuracy).",
)
def large_batch_worse(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Per network: the small batch picked by validation accuracy minus the largest batch, in training
    (train_eval_acc) and test accuracy, one value per seed, Welch t; threshold 5 points, side above, every
    effect."""
    detail = (
        "Per dataset and network, the smaller batch size with the best mean validation accuracy (ties: the "
        "smaller batch) is picked; effects: its training accuracy (training set in eval mode) minus the "
        "largest batch's, and its test accuracy minus the largest batch's, in points, Welch t-intervals over "
        f"seeds; ✓ if every interval lies above {DROP:g} points. Validation only picks; the held-out outcome "
        "is the test split."
    )
    ok = ok_runs(runs)
    found = [
        _drops(group, f"{display_name(d)}/{display_name(m)}")
        for (d, m), group in ok.groupby(["dataset", "model"])
    ]
    found = [f for f in found if f is not None]
    if not found:
        return ClaimResult("fewer than two batch sizes per dataset", None, detail)
    effects = tuple(e for network, _ in found for e in network)
    return ClaimResult("; ".join(s for _, s in found), combined(effects), detail, effects)
