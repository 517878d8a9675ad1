"""Timing claims of the lecture: parallelism makes a larger batch's update cost little more, so an epoch with
large batches is much faster; and where a CPU parts from the lecture's GPU curve. Each decided by the one rule
(optfactors.decision) with the repeats at a batch size as its units."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optfactors.decision import decide_ratio, decide_slope
from optfactors.device import names_a_gpu
from optfactors.report.claims import ClaimResult, Effect, combined, register_claim
from optfactors.studies.common import BATCH_SIZE, ok_runs


def _quick_series(runs: pd.DataFrame) -> pd.DataFrame:
    """The ok MNIST/MLP runs (the quick series), one per repeat and batch size."""
    ok = ok_runs(runs)
    return ok[(ok["dataset"] == "mnist") & (ok["model"] == "mlp")]


def _times(runs: pd.DataFrame, column: str, batch: int) -> pd.Series:
    """``column`` of every repeat at ``batch``."""
    series = _quick_series(runs)
    return series.loc[series[BATCH_SIZE] == batch, column].dropna()


def _geometric_mean(values: pd.Series) -> float:
    return float(np.exp(np.log(values).mean()))


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def _ratio_claim(
    runs: pd.DataFrame, column: str, batches: tuple[int, int], bound: float, side: str
) -> ClaimResult:
    """``column`` at ``batches[0]`` over it at ``batches[1]``: the ratio of geometric means over repeats,
    Welch t on log values, decided against ``bound``."""
    what = "epoch" if column == "time_per_epoch_s" else "update"
    detail = (
        f"Effect: time per {what} at batch {batches[0]:,} over batch {batches[1]:,}, ratio of geometric "
        "means over repeats (each repeat one run), Welch t-interval on log values; reproduced if it lies "
        f"{side} {bound:g}."
    )
    numerator, denominator = (_times(runs, column, b) for b in batches)
    if numerator.empty or denominator.empty:
        return ClaimResult(f"batch sizes {batches[0]:,} and {batches[1]:,} not both measured", None, detail)
    decision = decide_ratio(numerator, denominator, bound, side)
    effects = (Effect(f"{what} time, batch {batches[0]:,} / {batches[1]:,}", decision, "x", 1, signed=False),)
    means = {b: _geometric_mean(t) for b, t in zip(batches, (numerator, denominator), strict=True)}
    small, large = sorted(batches)
    measured = (
        f"{what}: {_fmt(means[small])} at batch {small:,}, {_fmt(means[large])} at batch {large:,} "
        f"(geometric means over repeats): ratio {decision.effect:.1f}x"
    )
    return ClaimResult(measured, combined(effects), detail, effects)


@register_claim(
    "epoch_faster_with_large_batch",
    lecture="With parallel computing, one epoch with a large batch takes far less time than with batch "
    "size 1 (here: at batch 1,000 at least 20x shorter than at batch 1).",
)
def epoch_faster(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Effect: epoch time at batch 1 over that at batch 1,000 (ratio of geometric means over repeats, Welch t
    on logs); ✓ above 20."""
    return _ratio_claim(runs, "time_per_epoch_s", (1, 1000), 20.0, "above")


@register_claim(
    "update_time_grows_slowly",
    lecture="Thanks to parallelism, the time for one update hardly grows from batch 1 to batch 100 "
    "(here: less than 10x).",
)
def update_time_grows_slowly(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Effect: time per update at batch 100 over that at batch 1 (ratio of geometric means over repeats,
    Welch t on logs); ✓ below 10."""
    return _ratio_claim(runs, "time_per_update_s", (100, 1), 10.0, "below")


#: Above this log-log slope of time per update against batch size the time is no longer flat.
FLAT = 0.5


def _local_slopes(medians: pd.Series) -> str:
    """The log-log slope between neighbouring batch sizes' median times per update, and where it first
    exceeds :data:`FLAT`."""
    sizes = medians.index.to_numpy(float)
    local = np.diff(np.log(medians.to_numpy())) / np.diff(np.log(sizes))
    pairs = list(zip(sizes[:-1], sizes[1:], local, strict=True))
    steps = ", ".join(f"{int(a):,}->{int(b):,}: {s:.2f}" for a, b, s in pairs)
    bend = next((f"between {int(a):,} and {int(b):,}" for a, b, s in pairs if s > FLAT), "nowhere here")
    return f"Local slopes of the medians: {steps}; the time per update grows faster than sqrt(batch) {bend}"


@register_claim(
    "update_time_flat_up_to_large_batches",
    lecture="On the lecture's GPU the time per update stays nearly flat up to batches of a few thousand; "
    "it only grows once the batch exceeds the parallelism of the hardware.",
)
def update_time_flat(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Effect: the least-squares slope of log time per update on log batch size over every run at batch
    1,000 or more (each run one point), t-interval; ✓ below 0.5 (~0 is flat, ~1 linear: no headroom).
    A claim about the lecture's GPU: on runs that did not all use one it reads — (precondition)."""
    series = _quick_series(runs).dropna(subset=["time_per_update_s"])
    large = series[series[BATCH_SIZE] >= 1000]
    medians = series.groupby(BATCH_SIZE)["time_per_update_s"].median()
    devices = sorted(set(ok_runs(runs)["device"]))
    detail = (
        "A claim about the lecture's GPU: decided only on runs that all used a GPU (on a CPU it reads — with "
        "the CPU's numbers; the paper profile on a GPU decides it). Effect: least-squares slope of log time "
        "per update on log batch size over every run at batch 1,000 or more, t-interval; reproduced (flat) "
        f"if it lies below {FLAT:g}. {_local_slopes(medians)}, where the device ({'/'.join(devices)}) runs "
        "out of parallelism."
    )
    if large[BATCH_SIZE].nunique() < 2:
        return ClaimResult("fewer than two batch sizes >= 1,000 measured", None, detail)
    slope = decide_slope(
        np.log(large[BATCH_SIZE].to_numpy(float)), np.log(large["time_per_update_s"]), FLAT, "below"
    )
    effects = (Effect("log-log slope, batch >= 1,000", slope),)
    big = medians[medians.index >= 1000]
    measured = (
        f"time per update ∝ batch^{slope.effect:.2f} for batch {big.index.min():,}-{big.index.max():,} "
        f"({_fmt(big.iloc[0])} -> {_fmt(big.iloc[-1])}, medians)"
    )
    if not all(names_a_gpu(device) for device in devices):
        return ClaimResult(f"needs a GPU; on this CPU: {measured}", None, detail, effects)
    return ClaimResult(measured, combined(effects), detail, effects)
