"""critical_batch: updates and training time to the target validation accuracy per batch size (at its best
learning rate), the knee of that curve, and the simple gradient noise scale measured during training."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from optfactors.report.tables import register_table
from optfactors.studies.common import BATCH_SIZE, LR

#: runs.csv columns of NoiseScaleProbe's measurements: train_eval_b_simple_at_<update>.
B_SIMPLE = re.compile(r"train_eval_b_simple_at_(\d+)$")


def runs_to_target(runs: pd.DataFrame) -> pd.DataFrame:
    """Per run: batch size, learning rate, seed, whether it reached the target (stopped by it, not by the
    cap, not diverged), updates to it, and training time to it (updates x the run's median time per update:
    without start-up and evaluations)."""
    reached = (runs["status"] == "ok") & (runs["stop_reason"] == "target")
    return pd.DataFrame(
        {
            "batch_size": runs[BATCH_SIZE].astype(int),
            "lr": runs[LR].astype(float),
            "seed": runs["seed"],
            "reached": reached,
            "steps": runs["updates"].where(reached),
            "time_s": (runs["updates"] * runs["time_per_update_s"]).where(reached),
        }
    )


def best_per_batch(runs: pd.DataFrame) -> pd.DataFrame:
    """Per batch size, the learning rate (among those whose every seed reached the target) with the fewest
    mean updates to the target: its updates and time (means over seeds), how many rates were tried, and
    whether the best is at an end of the tried grid (then a better rate may lie outside it)."""
    per_run = runs_to_target(runs)
    per_lr = per_run.groupby(["batch_size", "lr"]).agg(
        seeds=("seed", "size"), reached=("reached", "all"), steps=("steps", "mean"), time_s=("time_s", "mean")
    )
    rows = []
    for batch, group in per_lr.groupby(level="batch_size"):
        lrs = group.index.get_level_values("lr")
        good = group[group["reached"]]
        if good.empty:
            continue
        (_, lr), best = good["steps"].idxmin(), good.loc[good["steps"].idxmin()]
        rows.append(
            {
                "batch_size": int(batch),
                "lr": float(lr),
                "steps": float(best["steps"]),
                "time_s": float(best["time_s"]),
                "seeds": int(best["seeds"]),
                "lrs_tried": len(lrs),
                "lrs_reaching": len(good),
                "at_edge": bool(lr in (lrs.min(), lrs.max())),
            }
        )
    return pd.DataFrame(
        rows, columns=["batch_size", "lr", "steps", "time_s", "seeds", "lrs_tried", "lrs_reaching", "at_edge"]
    )


def best_rate_runs(runs: pd.DataFrame, best: pd.DataFrame) -> pd.DataFrame:
    """Every seed's run at its batch size's best learning rate (`best_per_batch`): batch size, seed,
    updates and time to the target."""
    per_run = runs_to_target(runs)
    return per_run.merge(best[["batch_size", "lr"]], on=["batch_size", "lr"])[
        ["batch_size", "seed", "steps", "time_s"]
    ]


def fit_knee(best: pd.DataFrame) -> tuple[float, float] | None:
    """``(S_min, B_crit)`` of ``S(B) = S_min (1 + B_crit / B)`` (McCandlish et al.'s steps-batch trade-off)
    fitted by least squares on log S; the knee B_crit is where S is twice its minimum, between perfect
    scaling (S ~ 1 / B) and no gain (S ~ S_min). None with fewer than 4 batch sizes."""
    if len(best) < 4:
        return None
    b, log_s = best["batch_size"].to_numpy(float), np.log(best["steps"].to_numpy(float))

    def fit(b_crit: float) -> tuple[float, float]:
        shape = np.log1p(b_crit / b)
        log_s_min = float(np.mean(log_s - shape))
        return float(np.sum((log_s - log_s_min - shape) ** 2)), log_s_min

    grid = np.geomspace(b.min() / 100, b.max() * 100, 4001)
    b_crit = float(grid[np.argmin([fit(c)[0] for c in grid])])
    return float(np.exp(fit(b_crit)[1])), b_crit


def doublings(best: pd.DataFrame) -> pd.DataFrame:
    """Every pair of measured batch sizes B, 2B: the speed-up S(B) / S(2B) in updates to the target."""
    steps = best.set_index("batch_size")["steps"]
    rows = [
        {"batch_size": b, "speedup": steps[b] / steps[2 * b]} for b in steps.index if 2 * b in steps.index
    ]
    return pd.DataFrame(rows, columns=["batch_size", "speedup"])


def noise_scale_curve(runs: pd.DataFrame) -> pd.DataFrame:
    """Every B_simple measurement: run, batch size, learning rate, update, value."""
    columns = {c: int(m.group(1)) for c in runs.columns if (m := B_SIMPLE.match(c))}
    rows = [
        {
            "run_key": r["run_key"],
            "batch_size": int(r[BATCH_SIZE]),
            "lr": float(r[LR]),
            "step": step,
            "b_simple": r[c],
        }
        for _, r in runs.iterrows()
        for c, step in columns.items()
        if pd.notna(r[c])
    ]
    return pd.DataFrame(rows, columns=["run_key", "batch_size", "lr", "step", "b_simple"])


def b_simple_at_target(runs: pd.DataFrame) -> float:
    """B_simple where it matters for the target: in each run that measured it and reached the target, the
    last measurement before the target was reached; the median over those runs (NaN if none)."""
    curve, per_run = noise_scale_curve(runs), runs_to_target(runs).set_index(runs["run_key"])
    values = []
    for key, group in curve.groupby("run_key"):
        if per_run.loc[key, "reached"]:
            before = group[group["step"] <= per_run.loc[key, "steps"]]
            if not before.empty:
                values.append(float(before.loc[before["step"].idxmax(), "b_simple"]))
    return float(np.median(values)) if values else float("nan")


def knee_per_seed(runs: pd.DataFrame, best: pd.DataFrame) -> pd.Series:
    """B_crit fitted (`fit_knee`) to each seed's updates at the best rates, by seed (seeds with fewer than 4
    batch sizes left out)."""
    knees = {
        seed: fitted[1]
        for seed, part in best_rate_runs(runs, best).groupby("seed")
        if (fitted := fit_knee(part)) is not None
    }
    return pd.Series(knees, name="b_crit", dtype=float)


def b_simple_per_seed(runs: pd.DataFrame) -> pd.Series:
    """`b_simple_at_target` of each seed's runs, by seed (NaN-free: seeds that measured none left out)."""
    values = {seed: b_simple_at_target(part) for seed, part in runs.groupby("seed")}
    return pd.Series(values, name="b_simple", dtype=float).dropna()


@register_table("steps_to_target")
def steps_to_target(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Per batch size: the best learning rate, its updates and training time to the target."""
    return best_per_batch(runs).round({"steps": 1, "time_s": 1})
