"""Claims on training at large learning rates: warm-up, BatchNorm, gradient clipping."""

from __future__ import annotations

import pandas as pd

from optfactors.report.claims import ClaimResult, register_claim
from optfactors.studies.common import (
    LR,
    by_lr,
    ok_runs,
)


@register_claim(
    "warmup_helps_at_large_lr",
    lecture="At a large learning rate, starting with a linear warm-up trains better than using the peak rate "
    "from the first update (the lecture's warm-up; Transformer, ResNet).",
)
def warmup_helps(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Final training loss with and without warm-up (same peak, cosine decay) at the peak lrs above the
    best one without warm-up, compared with the seeds' spread."""
    table = by_lr(runs, ["schedule"], "train_loss").set_index(["schedule", LR])
    spread = ok_runs(runs).groupby(["schedule", LR])["train_loss"].std().fillna(0.0)
    detail = (
        "Final training loss (mean ± std over seeds that did not diverge) after the same budget, "
        "cosine decay "
        "with and without a linear warm-up over the first 100 updates. Large learning rates: those above the "
        "best one without warm-up. Reproduced if at some large rate warm-up ends lower by more than "
        "the larger "
        "of the two seed standard deviations (or diverges in fewer seeds), and at none is it that "
        "much higher."
    )
    if "cosine" not in table.index or "warmup_cosine" not in table.index:
        return ClaimResult("needs both cosine and warmup_cosine runs", None, detail)
    plain_all = table.loc["cosine"]
    if plain_all["train_loss"].isna().all():  # idxmin would raise: no best lr to compare above
        return ClaimResult("no run without warm-up ended ok: no best learning rate", None, detail)
    best = plain_all["train_loss"].idxmin()
    parts, better, worse = [], [], []
    for lr in sorted(plain_all.index):
        if lr <= best or lr not in table.loc["warmup_cosine"].index:
            continue
        plain, warm = plain_all.loc[lr], table.loc[("warmup_cosine", lr)]
        noise = max(spread.get(("cosine", lr), 0.0), spread.get(("warmup_cosine", lr), 0.0))
        gap = plain["train_loss"] - warm["train_loss"]
        parts.append(
            f"lr {lr:g}: no warm-up {plain['train_loss']:.3g} ({int(plain['diverged'])} diverged), warm-up "
            f"{warm['train_loss']:.3g} ({int(warm['diverged'])} diverged), seed spread {noise:.2g}"
        )
        better.append(bool(plain["diverged"] > warm["diverged"] or gap > noise))
        worse.append(bool(warm["diverged"] > plain["diverged"] or -gap > noise))
    if not parts:
        return ClaimResult(
            f"no peak learning rate above the best one without warm-up ({best:g})", None, detail
        )
    head = f"best lr without warm-up {best:g} ({plain_all.loc[best, 'train_loss']:.3g}); "
    return ClaimResult(head + "; ".join(parts), any(better) and not any(worse), detail)
