"""Sharp vs flat minima: the analysed solutions with their sharpness and accuracy."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from optfactors.report.collect import ok_runs, stage_rows
from optfactors.report.figures.style import display_name

REGIMES = ("sb", "lb")


NETWORK_ORDER = ("keskar_f1", "keskar_c1", "keskar_c2")


#: The sharpness measures set against test accuracy: runs.csv metric suffix -> label.
MEASURES = {
    "sharpness_full": "ε-sharpness (%)",
    "sharpness_adaptive": "adaptive ε-sharpness (%)",
    "top_eigenvalue": "top Hessian eigenvalue",
}


def _largest_epsilon_column(columns: pd.Index, name: str) -> str:
    """``name`` itself, or of the columns ``name_<ε>`` the one with the largest ε."""
    if name in columns:
        return name
    eps = [float(c[len(name) + 1 :]) for c in columns if c.startswith(f"{name}_")]
    return f"{name}_{max(eps):g}" if eps else name


def sharpness_and_accuracy(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per analysed solution (network, seed, regime): its source run's test and training accuracy
    (%, whole sets) and each sharpness measure of :data:`MEASURES` (ε-sharpness at the largest ε)."""
    ok = ok_runs(runs)
    rows = []
    for _, run in ok.iterrows():
        for regime in REGIMES:
            test = run.get(f"{regime}_source_test_acc")
            if pd.isna(test):
                continue
            row = {
                "dataset": run["dataset"],
                "model": run["model"],
                "seed": run["seed"],
                "regime": regime,
                "test_acc": 100 * test,
                "train_acc": 100 * run.get(f"{regime}_source_train_eval_acc", np.nan),
            }
            for measure in MEASURES:
                row[measure] = run.get(_largest_epsilon_column(run.index, f"{regime}_{measure}"), np.nan)
            rows.append(row)
    return pd.DataFrame(rows)


def analysis_rows(runs: pd.DataFrame, curves: pd.DataFrame, table: str) -> pd.DataFrame:
    """One kind of measurement's rows from ok runs, with dataset, model and seed; empty columns dropped."""
    rows = stage_rows(curves, table)
    if rows.empty:
        return rows
    meta = ok_runs(runs)[["run_key", "dataset", "model", "seed"]]
    return rows.merge(meta, on="run_key")


def networks(frame: pd.DataFrame) -> list[str]:
    """The models present, in the paper's order (F1, C1, C2), others after them."""
    present = list(dict.fromkeys(frame["model"])) if not frame.empty else []
    return sorted(present, key=lambda m: (NETWORK_ORDER.index(m) if m in NETWORK_ORDER else 99, m))


def network_label(frame: pd.DataFrame, model: str) -> str:
    """``"F1 (MNIST)"``."""
    dataset = frame.loc[frame["model"] == model, "dataset"].iloc[0]
    return f"{display_name(model)} ({display_name(dataset)})"


def rank_correlation(frame: pd.DataFrame, measure: str) -> tuple[float, float, int]:
    """Spearman's rho between ``measure`` and test accuracy over ``frame``'s solutions, its two-sided p-value
    and the number of points (NaN, NaN, n with fewer than 3 points or a constant column)."""
    part = frame[[measure, "test_acc"]].dropna()
    if len(part) < 3 or part[measure].nunique() < 2 or part["test_acc"].nunique() < 2:
        return np.nan, np.nan, len(part)
    result = spearmanr(part[measure], part["test_acc"])
    return float(result.statistic), float(result.pvalue), len(part)
