"""The lecture's loss claim: cross-entropy trains faster than MSE with SGD; Adam shrinks the gap. Decided by
the one rule (optfactors.decision) on each seed's area under its training-accuracy curve."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optfactors.decision import decide_contrast
from optfactors.report.claims import ClaimResult, Effect, combined, register_claim
from optfactors.studies.common import display_name, ok_runs, seeds_mean_std

LOSSES = ("cross_entropy", "mse")


def training_speed(runs: pd.DataFrame, curves: pd.DataFrame) -> dict[tuple[str, str], np.ndarray]:
    """Per (optimizer, loss): each ok seed's training accuracy (running mean per epoch) averaged over its
    epochs, in points: the area under its training curve, how fast it rises."""
    ok = ok_runs(runs)
    per_epoch = curves.merge(ok[["run_key", "optimizer", "loss"]], on="run_key").dropna(subset=["train_acc"])
    area = 100 * per_epoch.groupby(["optimizer", "loss", "run_key"])["train_acc"].mean()
    return {key: part.to_numpy(dtype=float) for key, part in area.groupby(level=["optimizer", "loss"])}


def _describe(speed: dict[tuple[str, str], np.ndarray], optimizer: str) -> str:
    ce, mse = speed[(optimizer, "cross_entropy")], speed[(optimizer, "mse")]
    gap = f"gap {np.mean(ce) - np.mean(mse):+.2f} points"
    return f"{display_name(optimizer)}: CE {seeds_mean_std(ce)} %, MSE {seeds_mean_std(mse)} % ({gap})"


@register_claim(
    "ce_trains_faster_than_mse",
    lecture="For classification, cross-entropy trains faster than mean square error with SGD (MSE's surface "
    "is "
    "flat where the prediction is wrong); with Adam the difference shrinks.",
)
def ce_trains_faster(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Effects on each seed's mean training accuracy over the epochs: SGD's CE − MSE (threshold 0, side
    above) and SGD's CE − MSE minus Adam's (threshold 0, side above: Adam's gap smaller), Welch t."""
    speed = training_speed(runs, curves)
    detail = (
        "Per seed: training accuracy (running mean per epoch) averaged over all epochs, i.e. how fast it "
        "rises. Effects: SGD's gap (cross-entropy − MSE, points), ✓ above 0; and SGD's gap minus Adam's, a "
        "difference of differences, ✓ above 0 (the gap shrinks with Adam); Welch t-intervals over seeds."
    )
    cells = {(o, loss): f"{display_name(o)}, {loss}" for o in ("sgd", "adam") for loss in LOSSES}
    if any(key not in speed for key in cells):
        return ClaimResult("needs SGD and Adam with both losses", None, detail)
    groups = {name: speed[key] for key, name in cells.items()}
    sgd = decide_contrast({n: groups[n] for n in list(groups)[:2]})
    shrinks = decide_contrast(groups, (1, -1, -1, 1))
    effects = (
        Effect("SGD: CE − MSE", sgd, "points"),
        Effect("SGD's gap − Adam's", shrinks, "points"),
    )
    measured = "; ".join(_describe(speed, o) for o in ("sgd", "adam"))
    return ClaimResult(measured, combined(effects), detail, effects)
