"""Claims on training at large learning rates: warm-up, BatchNorm, gradient clipping."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optfactors.report.claims import ClaimResult, register_claim
from optfactors.report.collect import ok_runs
from optfactors.report.summaries.stability import CLIP, LR, by_lr


@register_claim(
    "warmup",
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
    "normalization",
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
    "normalization",
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


@register_claim(
    "stuck",
    "stuck_is_not_small_gradient",
    lecture="When the training loss stops decreasing, the gradient is not necessarily small: the loss can "
    "plateau while the gradient norm stays far from zero.",
)
def stuck_not_small_gradient(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Per seed: the loss over the last two thirds of the updates vs at one third, and the gradient
    norm there."""
    ok = ok_runs(runs)
    parts, verdicts = [], []
    for seed, key in zip(ok["seed"], ok["run_key"], strict=True):
        curve = curves[curves["run_key"] == key].sort_values("updates")
        third = len(curve) // 3
        start, late = curve.iloc[third], curve.iloc[third:]
        first = curve["train_grad_norm"].iloc[: max(third // 5, 1)].median()
        plateau = late["train_loss"].min() >= 0.5 * start["train_loss"]
        large = late["train_grad_norm"].median() >= first
        parts.append(
            f"seed {seed}: loss {start['train_loss']:.3g} at update {int(start['updates'])}, lowest "
            f"{late['train_loss'].min():.3g} afterwards, last {curve['train_loss'].iloc[-1]:.3g}; "
            "gradient norm "
            f"median {late['train_grad_norm'].median():.3g} on the plateau vs {first:.3g} in the "
            "first updates"
        )
        verdicts.append(bool(plateau and large))
    detail = (
        "Plateau: over the last two thirds of the updates the training loss never gets below half "
        "its value at "
        "one third. Not a small gradient: the median gradient norm there is at least the median of the first "
        "updates' (while the loss was still moving). Reproduced if both hold for every seed."
    )
    if not verdicts:
        return ClaimResult("no ok run", None, detail)
    return ClaimResult("; ".join(parts), all(verdicts), detail)
