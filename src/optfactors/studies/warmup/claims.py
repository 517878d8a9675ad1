"""Claims on training at large learning rates: warm-up, decided by the one rule (optfactors.decision)."""

from __future__ import annotations

import pandas as pd

from optfactors.decision import decide_contrast
from optfactors.report.claims import ClaimResult, Effect, combined, register_claim
from optfactors.studies.common import LR, ok_runs

PLAIN, WARMUP = "cosine", "warmup_cosine"


def _losses(runs: pd.DataFrame, schedule: str, lr: float) -> tuple[pd.Series, int]:
    """Final training losses of the ok seeds of ``schedule`` at ``lr``, and how many seeds diverged."""
    cell = runs[(runs["schedule"] == schedule) & (runs[LR] == lr)]
    return ok_runs(cell)["train_loss"].dropna(), int((cell["status"] == "diverged").sum())


def _losses_text(losses: pd.Series, diverged: int) -> str:
    left_out = f", {diverged} diverged: left out" if diverged else ""
    return f"{losses.mean():.3g} ({len(losses)} seeds{left_out})"


@register_claim(
    "warmup_helps_at_large_lr",
    lecture="At a large learning rate, starting with a linear warm-up trains better than using the peak rate "
    "from the first update (the lecture's warm-up; Transformer, ResNet).",
)
def warmup_helps(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Effect, at each peak learning rate above the best one without warm-up (picked on validation: the
    lowest mean validation loss over ok seeds): mean final training loss without warm-up minus with it (same
    peak, cosine decay), Welch t; ✓ if every one lies above 0 (warm-up ends lower)."""
    detail = (
        "Cosine decay with and without a linear warm-up over the first 100 updates, same budget and peak. "
        "Large rates: those above the best one without warm-up, picked on validation (lowest mean "
        "validation loss). Effect at each: mean final training loss without warm-up minus with it, Welch "
        "t-interval over seeds; reproduced if every interval lies above 0. Diverged seeds have no loss and "
        "are left out."
    )
    if not {PLAIN, WARMUP} <= set(runs["schedule"]):
        return ClaimResult("needs both cosine and warmup_cosine runs", None, detail)
    validation = ok_runs(runs[runs["schedule"] == PLAIN]).groupby(LR)["val_loss"].mean().dropna()
    if validation.empty:
        return ClaimResult("no run without warm-up ended ok: no best learning rate", None, detail)
    best = float(validation.idxmin())
    rates = set(runs.loc[runs["schedule"] == WARMUP, LR])
    large = sorted(lr for lr in set(runs.loc[runs["schedule"] == PLAIN, LR]) if lr > best and lr in rates)
    if not large:
        return ClaimResult(
            f"no peak learning rate above the best one without warm-up ({best:g})", None, detail
        )
    effects, parts = [], []
    for lr in large:
        (plain, plain_diverged), (warm, warm_diverged) = _losses(runs, PLAIN, lr), _losses(runs, WARMUP, lr)
        decision = decide_contrast({"no warm-up": plain, "warm-up": warm})
        effects.append(Effect(f"lr {lr:g}", decision, digits=3))
        parts.append(
            f"lr {lr:g}: final training loss {_losses_text(plain, plain_diverged)} without warm-up, "
            f"{_losses_text(warm, warm_diverged)} with it"
        )
    head = f"best lr without warm-up {best:g} (validation loss {validation[best]:.3g}); "
    return ClaimResult(head + "; ".join(parts), combined(tuple(effects)), detail, tuple(effects))
