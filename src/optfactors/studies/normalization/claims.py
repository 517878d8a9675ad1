"""Claims on training at large learning rates: warm-up, BatchNorm, gradient clipping."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optfactors.report.claims import ClaimResult, register_claim
from optfactors.studies.common import (
    CLIP,
    LR,
    by_lr,
)


def _trainable_lr(runs: pd.DataFrame, model: str) -> float | None:
    """The largest lr at which every run of ``model`` without clipping ended ok above 50 % test accuracy."""
    plain = runs[(runs["model"] == model) & runs[CLIP].isna()]
    good = [
        lr
        for lr, cell in plain.groupby(LR)
        if (cell["status"] == "ok").all() and (cell["test_acc"] > 0.5).all()
    ]
    return max(good) if good else None


@register_claim(
    "batchnorm_tolerates_larger_lr",
    lecture="Batch normalization makes the error surface easier: a network with BatchNorm trains at learning "
    "rates where the same network without it fails.",
)
def batchnorm_tolerates(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Largest trainable SGD learning rate of F1 with and without BatchNorm (no clipping)."""
    with_bn, without = _trainable_lr(runs, "keskar_f1"), _trainable_lr(runs, "mlp")
    table = by_lr(runs[runs[CLIP].isna()], ["model"], "test_acc").rename(columns={LR: "lr"})
    shown = "; ".join(
        f"{'BN' if r.model == 'keskar_f1' else 'no BN'} lr {r.lr:g}: "
        + (f"{100 * r.test_acc:.1f} %" if not np.isnan(r.test_acc) else "—")
        + (f" ({r.diverged} diverged)" if r.diverged else "")
        for r in table.itertuples(index=False)
    )
    detail = (
        "Trainable: every seed ends ok with test accuracy above 50 % (SGD, no clipping, same budget). "
        "Reproduced if the largest trainable learning rate with BatchNorm exceeds the one without."
    )
    if with_bn is None or without is None:  # only one trainable at some lr decides; neither: undecided
        verdict = None if with_bn is None and without is None else with_bn is not None
        return ClaimResult(f"largest trainable lr: BN {with_bn}, no BN {without}; {shown}", verdict, detail)
    return ClaimResult(
        f"largest trainable lr: BN {with_bn:g}, no BN {without:g}; {shown}", with_bn > without, detail
    )


@register_claim(
    "clipping_prevents_divergence",
    lecture="Gradient clipping keeps training from blowing up at learning rates where it otherwise diverges.",
)
def clipping_prevents_divergence(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """At the lrs where the network without BatchNorm diverged unclipped: did it diverge with clipping?"""
    plain = runs[runs["model"] == "mlp"]
    unclipped = plain[plain[CLIP].isna()].groupby(LR)["status"].apply(lambda s: int((s == "diverged").sum()))
    clipped = plain[plain[CLIP].notna()].groupby(LR)["status"].apply(lambda s: int((s == "diverged").sum()))
    accuracy = plain[plain[CLIP].notna() & (plain["status"] == "ok")].groupby(LR)["test_acc"].mean()
    blown = [lr for lr, n in unclipped.items() if n > 0]
    detail = (
        "F1 without BatchNorm, SGD. Reproduced if at every learning rate where an unclipped seed "
        "diverged, no "
        "clipped seed (gradient norm clipped at 1) diverged; the clipped runs' test accuracy is "
        "stated, since "
        "not diverging is not the same as training well."
    )
    if not blown:
        return ClaimResult("no unclipped run diverged: nothing to prevent", None, detail)
    parts = [
        f"lr {lr:g}: {unclipped[lr]} diverged unclipped, "
        + (f"{clipped[lr]} clipped" if lr in clipped.index else "no clipped run")  # counts as not prevented
        + (f" (clipped test accuracy {100 * accuracy[lr]:.1f} %)" if lr in accuracy.index else "")
        for lr in blown
    ]
    return ClaimResult("; ".join(parts), all(clipped.get(lr, 1) == 0 for lr in blown), detail)
