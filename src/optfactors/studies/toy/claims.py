"""The lecture's error-surface claims, checked on the paths' summaries (computed from every update)."""

from __future__ import annotations

import pandas as pd

from optfactors.report.claims import ClaimResult, register_claim
from optfactors.studies.common import (
    stage_rows,
)

EXPERIMENT = "toy"


def _summary(curves: pd.DataFrame, demo: str, *paths: str) -> list[pd.Series] | None:
    """The summaries of ``paths`` of ``demo``, or None if any is missing or the table holds several toy runs
    (stale records of an earlier toy config: which one the claims describe would be ambiguous)."""
    frame = stage_rows(curves, "path_summary")
    if frame.empty or frame["run_key"].nunique() > 1:
        return None
    frame = frame[frame["demo"] == demo].set_index("path")
    return [frame.loc[p] for p in paths] if all(p in frame.index for p in paths) else None


MISSING = ClaimResult(
    "the toy paths are missing, or results/toy/runs/ holds several runs (remove the stale ones): "
    "make sweep EXP=toy",
    None,
)


@register_claim(
    "toy_gd_lr_extremes",
    lecture="On an elongated convex surface one learning rate cannot fit all directions: with lr 1e-2 GD "
    "keeps "
    "jumping between the walls and never reaches the minimum; with lr 1e-7 it is still far from it after "
    "100,000 updates.",
)
def gd_lr_extremes(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Final distance to the minimum and sign flips of the steep coordinate."""
    found = _summary(curves, "elongated", "gd_lr_1e-2", "gd_lr_1e-7")
    if found is None:
        return MISSING
    big, small = found
    start = small["start_distance"]
    measured = (
        f"lr 1e-2: after {int(big['steps']):,} updates {big['final_distance']:.3g} from the minimum, loss "
        f"{big['start_loss']:.4g} → {big['final_loss']:.4g}, b changed sign in "
        f"{int(big['y_sign_flips_last_100'])} of the last 99 updates; lr 1e-7: after "
        f"{int(small['steps']):,} updates {small['final_distance']:.3g} from it (started {start:.3g} away)"
    )
    ok = (
        big["final_distance"] > 0.5
        and big["y_sign_flips_last_100"] >= 90
        and small["final_distance"] > start / 2
    )
    detail = (
        "Reproduced if lr 1e-2 ends more than 0.5 from the minimum while b still changes sign at ≥ "
        "90 of the last "
        "99 updates (oscillating, not converging), and lr 1e-7 ends more than half its starting "
        "distance away."
    )
    return ClaimResult(measured, bool(ok), detail)


@register_claim(
    "toy_adagrad_bursts_decay_fixes",
    lecture="Adagrad (dividing by the root mean square of past gradients) gets close to the minimum, then "
    "bursts along the steep direction as the accumulated gradients shrink; learning-rate decay removes the "
    "bursts.",
)
def adagrad_bursts(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Bursts (b leaving the minimum by more than the threshold after first being close) with and
    without decay."""
    found = _summary(curves, "elongated", "adagrad_lecture", "adagrad_lecture_decay")
    if found is None:
        return MISSING
    plain, decay = found
    if pd.isna(plain["first_close_step"]) or pd.isna(decay["first_close_step"]):
        return ClaimResult("a path never got close to the minimum", False)
    measured = (
        f"without decay: close to the minimum at update {int(plain['first_close_step'])}, then "
        f"{int(plain['bursts'])} bursts up to |b| = {plain['max_dy_after_close']:.3g} while |w| stayed below "
        f"{plain['max_dx_after_close']:.2g}; with decay: close at update {int(decay['first_close_step'])}, "
        f"{int(decay['bursts'])} bursts, final distance {decay['final_distance']:.2g}"
    )
    ok = plain["bursts"] >= 1 and plain["max_dx_after_close"] < 0.1 and decay["bursts"] == 0
    detail = (
        "Close: within 0.01 of the minimum (toy.close); a burst: |b| > 0.1 (toy.burst) afterwards, "
        "counted at its "
        "onset. Reproduced if the lecture's Adagrad bursts at least once along b (w staying within "
        "0.1) and the "
        "same optimizer with lr / sqrt(t + 1) never does."
    )
    return ClaimResult(measured, bool(ok), detail)


@register_claim(
    "toy_momentum_passes_critical_point",
    lecture="Gradient descent stops at a critical point that is not a minimum; with momentum, like a ball "
    "rolling downhill, it rolls past it and reaches the minimum.",
)
def momentum_passes(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Where GD and GD + momentum end on x^4 + x^3 + y^2 (critical point at 0, minimum at -3/4)."""
    found = _summary(curves, "momentum", "gd", "gd_momentum")
    if found is None:
        return MISSING
    gd, mom = found
    measured = (
        f"GD: ends at x = {gd['final_x']:.3g} (never below {gd['min_x']:.3g}), gradient norm "
        f"{gd['final_grad_norm']:.2g}; GD + momentum: ends {mom['final_distance']:.2g} from the minimum "
        f"(-0.75, 0), loss {mom['final_loss']:.4g}"
    )
    ok = gd["min_x"] > 0 and gd["final_distance"] > 0.7 and mom["final_distance"] < 1e-3
    detail = (
        "Reproduced if GD never crosses the critical point x = 0 and ends more than 0.7 from the "
        "minimum, and "
        "GD + momentum (0.9, same lr) ends within 1e-3 of it."
    )
    return ClaimResult(measured, bool(ok), detail)


@register_claim(
    "toy_mse_stalls_ce_trains",
    lecture="With softmax outputs, mean square error is flat where the prediction is badly wrong: GD from "
    "the "
    "high-loss corner is stuck under MSE but reaches low loss under cross-entropy; Adam gets out under MSE.",
)
def mse_vs_ce(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Loss at the start and the end of each path, with the starting gradient norm."""
    found = _summary(curves, "mse_vs_ce", "gd_cross_entropy", "gd_mse", "adam_mse")
    if found is None:
        return MISSING
    ce, mse, adam = found
    paths = stage_rows(curves, "path")
    start_grad = paths[(paths["path"] == "gd_mse") & (paths["step"] == 0)]["grad_norm"].iloc[0]
    measured = (
        f"GD + cross-entropy: loss {ce['start_loss']:.3g} → {ce['final_loss']:.2g}; GD + MSE: "
        f"{mse['start_loss']:.3g} → {mse['final_loss']:.3g} (gradient {start_grad:.1e} at the start); "
        f"Adam + MSE: {adam['start_loss']:.3g} → {adam['final_loss']:.2g}"
    )
    ok = (
        ce["final_loss"] < 0.01 * ce["start_loss"]
        and mse["final_loss"] > 0.99 * mse["start_loss"]
        and adam["final_loss"] < 0.01 * adam["start_loss"]
    )
    detail = (
        "Same start (-10, 10), same budget. Reproduced if cross-entropy and Adam on MSE end below 1 "
        "% of their "
        "starting loss and GD on MSE above 99 % of it."
    )
    return ClaimResult(measured, bool(ok), detail)


@register_claim(
    "toy_bias_correction",
    lecture="An exponentially weighted average started at 0 is biased towards 0 in its first updates; "
    "dividing "
    "by 1 − β^t (Adam's bias correction) removes the bias.",
)
def bias_correction(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Mean absolute error of the average against the true mean over the first 10 updates."""
    frame = stage_rows(curves, "ewa")
    if frame.empty:
        return MISSING
    early = frame[frame["step"] <= 10]
    raw = (early["average"] - early["mean"]).abs().mean()
    corrected = (early["corrected"] - early["mean"]).abs().mean()
    measured = f"first 10 updates: mean |error| {raw:.3f} without correction, {corrected:.3f} with it"
    detail = "Reproduced if the uncorrected error is more than 3 times the corrected one."
    return ClaimResult(measured, bool(raw > 3 * corrected), detail)
