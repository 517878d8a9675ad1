"""Claims on training at large learning rates: BatchNorm and gradient clipping, each decided by the one rule
(optfactors.decision) at the learning rates where F1 without BatchNorm fails or diverges unclipped."""

from __future__ import annotations

import pandas as pd

from optfactors.decision import decide_mean, decide_share_difference
from optfactors.report.claims import ClaimResult, Effect, combined, register_claim
from optfactors.studies.common import CLIP, LR, ok_runs

#: F1 with BatchNorm, and the same network without it.
WITH_BN, WITHOUT_BN = "keskar_f1", "mlp"
#: Accuracy (%) above which a network trains, at or below which it fails (the claim's criterion since its
#: first version).
TRAINS = 50.0


def _unclipped(runs: pd.DataFrame, model: str) -> pd.DataFrame:
    return runs[(runs["model"] == model) & runs[CLIP].isna()]


def _diverged(cell: pd.DataFrame) -> int:
    return int((cell["status"] == "diverged").sum())


def failing_lrs(runs: pd.DataFrame) -> list[float]:
    """The learning rates where F1 without BatchNorm fails unclipped, told on validation: a seed diverged, or
    the mean validation accuracy of its ok seeds is at most :data:`TRAINS`."""
    cells = _unclipped(runs, WITHOUT_BN).groupby(LR)
    return [
        float(lr)
        for lr, cell in cells
        if _diverged(cell) or 100 * ok_runs(cell)["val_acc"].mean() <= TRAINS  # no ok seed: NaN, not <=
    ]


def _failure(cell: pd.DataFrame) -> str:
    accuracy = 100 * ok_runs(cell)["val_acc"].mean()
    shown = [f"{_diverged(cell)} of {len(cell)} seeds diverged"] if _diverged(cell) else []
    return ", ".join(shown + ([f"validation {accuracy:.1f} %"] if pd.notna(accuracy) else []))


@register_claim(
    "batchnorm_tolerates_larger_lr",
    lecture="Batch normalization makes the error surface easier: a network with BatchNorm trains at learning "
    "rates where the same network without it fails.",
)
def batchnorm_tolerates(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Effect, at each learning rate where F1 without BatchNorm fails (SGD, no clipping; `failing_lrs`, on
    validation): the mean test accuracy of F1 with BatchNorm over its seeds, t-interval; ✓ if every one lies
    above 50 % (it trains there). No such rate: — (nothing to compare)."""
    detail = (
        "Rates where F1 without BatchNorm fails (SGD, no clipping), picked on validation: a seed diverged "
        f"or its ok seeds' mean validation accuracy is at most {TRAINS:g} %. Effect at each: F1 with "
        "BatchNorm's mean test accuracy over seeds, t-interval; reproduced if every interval lies above "
        f"{TRAINS:g} % (trains). Diverged seeds have no accuracy and are left out."
    )
    failing = failing_lrs(runs)
    if not failing:
        return ClaimResult(
            "F1 without BatchNorm trains at every learning rate run: nothing to compare", None, detail
        )
    plain, bn = _unclipped(runs, WITHOUT_BN), _unclipped(runs, WITH_BN)
    effects, parts = [], []
    for lr in failing:
        cell = bn[bn[LR] == lr]
        decision = decide_mean(100 * ok_runs(cell)["test_acc"].dropna(), TRAINS, "above")
        effects.append(Effect(f"BN at lr {lr:g}", decision, "%", 1, signed=False))
        left_out = f", {_diverged(cell)} diverged" if _diverged(cell) else ""
        parts.append(
            f"lr {lr:g}: without BN {_failure(plain[plain[LR] == lr])}; with BN test accuracy "
            f"{decision.effect:.1f} % ({decision.n} seeds{left_out})"
        )
    return ClaimResult("; ".join(parts), combined(tuple(effects)), detail, tuple(effects))


@register_claim(
    "clipping_prevents_divergence",
    lecture="Gradient clipping keeps training from blowing up at learning rates where it otherwise diverges.",
)
def clipping_prevents_divergence(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Effect, at each learning rate where a seed of F1 without BatchNorm diverged unclipped: the share of its
    seeds that diverged unclipped minus the share that diverged clipped, Agresti-Caffo interval; ✓ if every
    one lies above 0. No unclipped seed diverged: — (nothing to prevent)."""
    detail = (
        "F1 without BatchNorm, SGD, at each learning rate where an unclipped seed diverged. Effect: share of "
        "seeds diverged unclipped minus share diverged with the gradient norm clipped at 1, Agresti-Caffo "
        "interval; reproduced if every interval lies above 0. The clipped runs' test accuracy is stated, "
        "since not diverging is not the same as training well."
    )
    plain = runs[runs["model"] == WITHOUT_BN]
    plain = plain[plain["status"].isin(["ok", "diverged"])]  # seeds with an outcome
    unclipped, clipped = plain[plain[CLIP].isna()], plain[plain[CLIP].notna()]
    blown = sorted(float(lr) for lr, cell in unclipped.groupby(LR) if _diverged(cell))
    if not blown:
        return ClaimResult("no unclipped run diverged: nothing to prevent", None, detail)
    effects, parts = [], []
    for lr in blown:
        without, with_clip = unclipped[unclipped[LR] == lr], clipped[clipped[LR] == lr]
        counts = {
            "unclipped": (_diverged(without), len(without)),
            "clipped": (_diverged(with_clip), len(with_clip)),
        }
        effects.append(Effect(f"lr {lr:g}", decide_share_difference(counts)))
        accuracy = 100 * ok_runs(with_clip)["test_acc"].mean()
        parts.append(
            f"lr {lr:g}: {_diverged(without)} of {len(without)} seeds diverged unclipped, "
            + (f"{_diverged(with_clip)} of {len(with_clip)} clipped" if len(with_clip) else "no clipped run")
            + (f" (clipped test accuracy {accuracy:.1f} %)" if pd.notna(accuracy) else "")
        )
    return ClaimResult("; ".join(parts), combined(tuple(effects)), detail, tuple(effects))
