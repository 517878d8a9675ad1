"""Batch-size claims: the quick start, a small vs a large batch trained for the same number of epochs."""

from __future__ import annotations

import pandas as pd

from optfactors.report.claims import ClaimResult, register_claim
from optfactors.report.collect import BATCH_SIZE, ok_runs
from optfactors.report.figures.style import display_name


@register_claim(
    "quickstart",
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


@register_claim(
    "batch_accuracy",
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
