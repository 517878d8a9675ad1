"""Timing claims of the lecture: parallelism makes a larger batch's update cost little more, so an epoch with
large batches is much faster; and where a CPU parts from the lecture's GPU curve."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optfactors.device import names_a_gpu
from optfactors.report.claims import ClaimResult, register_claim
from optfactors.studies.common import (
    BATCH_SIZE,
    ok_runs,
)


def _median_by_batch(runs: pd.DataFrame, column: str) -> pd.Series:
    """Median over repeats of ``column`` per batch size, MNIST/MLP runs (the quick series)."""
    ok = ok_runs(runs)
    ok = ok[(ok["dataset"] == "mnist") & (ok["model"] == "mlp")]
    return ok.groupby(BATCH_SIZE)[column].median()


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def _ratio(
    runs: pd.DataFrame, column: str, numerator: int, denominator: int
) -> tuple[pd.Series, float] | None:
    """Medians of ``column`` by batch size and their ratio at two batch sizes (None if one is missing)."""
    medians = _median_by_batch(runs, column)
    if not {numerator, denominator} <= set(medians.index):
        return None
    return medians, float(medians[numerator] / medians[denominator])


@register_claim(
    "epoch_faster_with_large_batch",
    lecture="With parallel computing, one epoch with a large batch takes far less time than with batch "
    "size 1 (here: at batch 1,000 at least 20x shorter than at batch 1).",
)
def epoch_faster(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Median epoch time at batch 1 over that at batch 1,000."""
    if (found := _ratio(runs, "time_per_epoch_s", 1, 1000)) is None:
        return ClaimResult("batch sizes 1 and 1,000 not both measured", None)
    epoch, ratio = found
    measured = f"epoch: {_fmt(epoch[1])} at batch 1, {_fmt(epoch[1000])} at batch 1,000: {ratio:.0f}x shorter"
    return ClaimResult(measured, ratio >= 20, "Reproduced if the ratio of median epoch times is >= 20.")


@register_claim(
    "update_time_grows_slowly",
    lecture="Thanks to parallelism, the time for one update hardly grows from batch 1 to batch 100 "
    "(here: less than 10x).",
)
def update_time_grows_slowly(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Median time per update at batch 100 over that at batch 1."""
    if (found := _ratio(runs, "time_per_update_s", 100, 1)) is None:
        return ClaimResult("batch sizes 1 and 100 not both measured", None)
    update, ratio = found
    measured = f"update: {_fmt(update[1])} at batch 1, {_fmt(update[100])} at batch 100: {ratio:.1f}x"
    return ClaimResult(measured, ratio < 10, "Reproduced if the ratio of median update times is < 10.")


@register_claim(
    "update_time_flat_up_to_large_batches",
    lecture="On the lecture's GPU the time per update stays nearly flat up to batches of a few thousand; "
    "it only grows once the batch exceeds the parallelism of the hardware.",
)
def update_time_flat(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Log-log slope of time per update above batch 1,000: ~0 is flat (GPU), ~1 is linear (no headroom)."""
    update = _median_by_batch(runs, "time_per_update_s")
    large = update[update.index >= 1000]
    if len(large) < 2:
        return ClaimResult("fewer than two batch sizes >= 1,000 measured", None)
    slope = float(np.polyfit(np.log(large.index.to_numpy(float)), np.log(large.to_numpy()), 1)[0])
    measured = (
        f"time per update ∝ batch^{slope:.2f} for batch {large.index.min():,}-{large.index.max():,} "
        f"({_fmt(large.iloc[0])} -> {_fmt(large.iloc[-1])})"
    )
    sizes = update.index.to_numpy(float)
    local = np.diff(np.log(update.to_numpy())) / np.diff(np.log(sizes))
    steps = ", ".join(
        f"{int(a):,}->{int(b):,}: {s:.2f}" for a, b, s in zip(sizes[:-1], sizes[1:], local, strict=True)
    )
    bend = next(
        (
            f"{int(a):,} and {int(b):,}"
            for a, b, s in zip(sizes[:-1], sizes[1:], local, strict=True)
            if s > 0.5
        ),
        None,
    )
    devices = sorted(set(ok_runs(runs)["device"]))
    where = f"between {bend}" if bend else "nowhere here"
    detail = (
        "A claim about the lecture's GPU: decided only on runs that all used a GPU (on a CPU it reads — with "
        "the CPU's numbers; the paper profile on a GPU decides it). Reproduced (flat) if the log-log slope "
        f"above batch 1,000 is < 0.5. Local slopes: {steps}; the time per update starts to grow faster than "
        f"sqrt(batch) {where}, where the device ({'/'.join(devices)}) runs out of parallelism."
    )
    if not all(names_a_gpu(device) for device in devices):
        return ClaimResult(f"needs a GPU; on this CPU: {measured}", None, detail)
    return ClaimResult(measured, bool(slope < 0.5), detail)
