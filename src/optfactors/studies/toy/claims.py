"""The lecture's error-surface claims, checked on the paths' summaries (computed from every update). Every
number is one deterministic computation on a 2-D surface (the bias-correction series: one fixed draw of its
noise, toy.ewa.seed), so each effect under the one rule (optfactors.decision) is exact: its interval is the
number itself, and the claim's threshold decides."""

from __future__ import annotations

import pandas as pd

from optfactors.decision import decide_exact
from optfactors.report.claims import ClaimResult, Effect, combined, register_claim
from optfactors.studies.common import stage_rows

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


def _effect(label: str, value: float, threshold: float, side: str, digits: int = 3) -> Effect:
    return Effect(label, decide_exact(float(value), threshold, side), digits=digits, signed=False)


def _result(measured: str, detail: str, effects: tuple[Effect, ...]) -> ClaimResult:
    return ClaimResult(measured, combined(effects), detail, effects)


@register_claim(
    "toy_gd_lr_extremes",
    lecture="On an elongated convex surface one learning rate cannot fit all directions: with lr 1e-2 GD "
    "keeps "
    "jumping between the walls and never reaches the minimum; with lr 1e-7 it is still far from it after "
    "100,000 updates.",
)
def gd_lr_extremes(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Effects (exact): lr 1e-2's final distance to the minimum, above 0.5, and sign changes of b in its last
    99 updates, at least 90 (above 89.5); lr 1e-7's final distance over its starting distance, above 0.5."""
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
    detail = (
        "Exact effects, one computation each: lr 1e-2 ends more than 0.5 from the minimum while b still "
        "changes sign at ≥ 90 of the last 99 updates (oscillating, not converging), and lr 1e-7 ends more "
        "than half its starting distance away."
    )
    effects = (
        _effect("lr 1e-2: final distance", big["final_distance"], 0.5, "above"),
        _effect("lr 1e-2: sign changes of b, last 99", big["y_sign_flips_last_100"], 89.5, "above", 0),
        _effect("lr 1e-7: final / starting distance", small["final_distance"] / start, 0.5, "above"),
    )
    return _result(measured, detail, effects)


#: How far w may stray after Adagrad got close while its bursts are along b (toy.burst's size).
W_STRAY = 0.1


@register_claim(
    "toy_adagrad_bursts_decay_fixes",
    lecture="Adagrad (dividing by the root mean square of past gradients) gets close to the minimum, then "
    "bursts along the steep direction as the accumulated gradients shrink; learning-rate decay removes the "
    "bursts.",
)
def adagrad_bursts(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Effects (exact): each path's closest approach to the minimum, below toy.close; after it, the lecture's
    Adagrad bursts along b (bursts above 0.5: at least one) while w stays within 0.1, and the same optimizer
    with lr / sqrt(t + 1) never bursts (below 0.5)."""
    found = _summary(curves, "elongated", "adagrad_lecture", "adagrad_lecture_decay")
    if found is None or "toy.close" not in runs:
        return MISSING
    plain, decay = found
    close = float(runs["toy.close"].iloc[0])

    def reached(path: pd.Series) -> str:
        step = path["first_close_step"]
        return "never got close" if pd.isna(step) else f"close to the minimum at update {int(step)}"

    measured = (
        f"without decay: {reached(plain)}, then {plain['bursts']:.0f} bursts up to |b| = "
        f"{plain['max_dy_after_close']:.3g} while |w| stayed below {plain['max_dx_after_close']:.2g}; with "
        f"decay: {reached(decay)}, {decay['bursts']:.0f} bursts, final distance {decay['final_distance']:.2g}"
    )
    detail = (
        f"Close: within {close:g} of the minimum (toy.close); a burst: |b| > 0.1 (toy.burst) afterwards, "
        "counted at its onset. Exact effects, one computation each: both paths get close; afterwards the "
        f"lecture's Adagrad bursts at least once along b, w staying within {W_STRAY:g}, and the same "
        "optimizer with lr / sqrt(t + 1) never does. A path that never got close has no bursts to count."
    )
    effects = (
        _effect("Adagrad: closest distance", plain["min_distance"], close, "below", 4),
        _effect("Adagrad: bursts along b", plain["bursts"], 0.5, "above", 0),
        _effect("Adagrad: largest |w| after close", plain["max_dx_after_close"], W_STRAY, "below", 4),
        _effect("Adagrad + decay: closest distance", decay["min_distance"], close, "below", 4),
        _effect("Adagrad + decay: bursts", decay["bursts"], 0.5, "below", 0),
    )
    return _result(measured, detail, effects)


@register_claim(
    "toy_momentum_passes_critical_point",
    lecture="Gradient descent stops at a critical point that is not a minimum; with momentum, like a ball "
    "rolling downhill, it rolls past it and reaches the minimum.",
)
def momentum_passes(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Effects (exact) on x^4 + x^3 + y^2 (critical point at 0, minimum at -3/4): GD's smallest x, above 0,
    and its final distance to the minimum, above 0.7; GD + momentum's final distance, below 1e-3."""
    found = _summary(curves, "momentum", "gd", "gd_momentum")
    if found is None:
        return MISSING
    gd, mom = found
    measured = (
        f"GD: ends at x = {gd['final_x']:.3g} (never below {gd['min_x']:.3g}), gradient norm "
        f"{gd['final_grad_norm']:.2g}; GD + momentum: ends {mom['final_distance']:.2g} from the minimum "
        f"(-0.75, 0), loss {mom['final_loss']:.4g}"
    )
    detail = (
        "Exact effects, one computation each: GD never crosses the critical point x = 0 and ends more than "
        "0.7 from the minimum, and GD + momentum (0.9, same lr) ends within 1e-3 of it."
    )
    effects = (
        _effect("GD: smallest x", gd["min_x"], 0.0, "above", 4),
        _effect("GD: final distance", gd["final_distance"], 0.7, "above"),
        _effect("GD + momentum: final distance", mom["final_distance"], 1e-3, "below", 5),
    )
    return _result(measured, detail, effects)


@register_claim(
    "toy_mse_stalls_ce_trains",
    lecture="With softmax outputs, mean square error is flat where the prediction is badly wrong: GD from "
    "the "
    "high-loss corner is stuck under MSE but reaches low loss under cross-entropy; Adam gets out under MSE.",
)
def mse_vs_ce(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Effects (exact): each path's final loss over its starting loss, below 0.01 for GD + cross-entropy and
    Adam + MSE, above 0.99 for GD + MSE."""
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
    detail = (
        "Same start (-10, 10), same budget. Exact effects, one computation each: the final over the starting "
        "loss, below 0.01 for cross-entropy and for Adam on MSE, above 0.99 for GD on MSE."
    )
    effects = (
        _effect(
            "GD + cross-entropy: final / start loss", ce["final_loss"] / ce["start_loss"], 0.01, "below", 4
        ),
        _effect("GD + MSE: final / start loss", mse["final_loss"] / mse["start_loss"], 0.99, "above", 4),
        _effect("Adam + MSE: final / start loss", adam["final_loss"] / adam["start_loss"], 0.01, "below", 4),
    )
    return _result(measured, detail, effects)


@register_claim(
    "toy_bias_correction",
    lecture="An exponentially weighted average started at 0 is biased towards 0 in its first updates; "
    "dividing "
    "by 1 − β^t (Adam's bias correction) removes the bias.",
)
def bias_correction(runs: pd.DataFrame, curves: pd.DataFrame) -> ClaimResult:
    """Effect (exact): the mean absolute error of the average against the true mean over the first 10
    updates, without correction over with it, above 3."""
    frame = stage_rows(curves, "ewa")
    if frame.empty:
        return MISSING
    early = frame[frame["step"] <= 10]
    raw = (early["average"] - early["mean"]).abs().mean()
    corrected = (early["corrected"] - early["mean"]).abs().mean()
    measured = f"first 10 updates: mean |error| {raw:.3f} without correction, {corrected:.3f} with it"
    detail = (
        "Exact effect, one computation on one fixed noisy series (toy.ewa.seed): the mean |error| over the "
        "first 10 updates without correction over with it; reproduced above 3."
    )
    ratio = raw / corrected if corrected > 0 else float("inf")
    return _result(measured, detail, (_effect("error without / with correction", ratio, 3.0, "above", 1),))
