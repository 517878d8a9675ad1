"""Sharp vs flat minima: the analysed solutions with their sharpness and accuracy."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from optfactors.report.tables import register_table
from optfactors.studies.common import (
    display_name,
    ok_runs,
    stage_rows,
)

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


#: Keskar et al. (2017), Tables 3 (ε = 1e-3) and 4 (ε = 5e-4): (network, ε, space) -> (SB mean, SB std,
#: LB mean, LB std) in percent. Only the entries quoted in this project's issue tracker are transcribed;
#: the others are left blank rather than typed from memory.
PAPER = {
    ("keskar_f1", 1e-3, "full"): (1.23, 0.83, 205.14, 69.52),
    ("keskar_c1", 1e-3, "full"): (28.58, 3.13, 707.23, 43.04),
}


SPACE_LABELS = {"full": "full space", "adaptive": "adaptive"}


def _mean_std(values: pd.Series, spec: str = ".2f") -> str:
    std = values.std() if len(values) > 1 else 0.0
    return f"{values.mean():{spec}} ± {std:{spec}}"


def _paper(value: float | None, std: float | None) -> str:
    return "" if value is None else f"{value:.2f} ± {std:.2f}"


@register_table("sharpness")
def sharpness_table(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Keskar's Tables 3 and 4: ε-sharpness (%) of SB and LB solutions, mean ± std over seeds, in the full
    space and a random subspace, the paper's values beside, the adaptive (scale-invariant) ε-sharpness,
    and the LB/SB ratio of the means."""
    frame = analysis_rows(runs, curves, "sharpness")
    rows = []
    for model in networks(frame):
        for epsilon in sorted(frame["epsilon"].unique(), reverse=True):
            row: dict[str, object] = {"network": network_label(frame, model), "ε": f"{epsilon:g}"}
            cell = frame[(frame["model"] == model) & (frame["epsilon"] == epsilon)]
            for space in ("full", "subspace", "adaptive"):
                part = cell[cell["space"] == space]
                if part.empty:
                    continue
                label = SPACE_LABELS.get(space) or f"{int(part['subspace_dim'].iloc[0])}-D subspace"
                means = {}
                for regime in REGIMES:
                    values = part.loc[part["regime"] == regime, "sharpness"]
                    means[regime] = values.mean()
                    row[f"{label} {regime.upper()}"] = _mean_std(values)
                paper = PAPER.get((model, float(epsilon), space), (None,) * 4)
                row[f"paper {label} SB"] = _paper(*paper[:2])
                row[f"paper {label} LB"] = _paper(*paper[2:])
                row[f"{label} LB/SB"] = f"{means['lb'] / means['sb']:.1f}"
            row["seeds"] = cell["seed"].nunique()
            rows.append(row)
    return pd.DataFrame(rows)


@register_table("hessian")
def hessian_table(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Per network and regime: training loss and test accuracy at the solution (analysis samples), top
    Hessian eigenvalue and Hessian trace, mean ± std over seeds."""
    hess = analysis_rows(runs, curves, "hessian")
    sol = analysis_rows(runs, curves, "solution")
    rows = []
    for model in networks(hess):
        for regime in REGIMES:
            h = hess[(hess["model"] == model) & (hess["regime"] == regime)]
            s = sol[(sol["model"] == model) & (sol["regime"] == regime)]
            rows.append(
                {
                    "network": network_label(hess, model),
                    "regime": regime.upper(),
                    "train loss": _mean_std(s.loc[s["split"] == "train", "loss"], ".3g"),
                    "test acc. (%)": _mean_std(100 * s.loc[s["split"] == "test", "accuracy"]),
                    "top eigenvalue": _mean_std(h["top_eigenvalue"], ".4g"),
                    "trace": _mean_std(h["trace"], ".4g"),
                    "seeds": h["seed"].nunique(),
                }
            )
    return pd.DataFrame(rows)


@register_table("sharpness_accuracy")
def sharpness_accuracy_table(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Per network and sharpness measure, over every analysed SB and LB solution: Spearman's rho between the
    measure and the solution's test accuracy (its source run, whole test set), the p-value and the number of
    solutions. Negative rho: sharper solutions generalize worse."""
    frame = sharpness_and_accuracy(runs)
    rows = []
    for model in networks(frame):
        part = frame[frame["model"] == model]
        for measure, label in MEASURES.items():
            rho, p, n = rank_correlation(part, measure)
            rows.append(
                {
                    "network": network_label(part, model),
                    "measure": label,
                    "Spearman rho": round(rho, 3),
                    "p-value": float(f"{p:.3g}") if pd.notna(p) else np.nan,
                    "solutions": n,
                }
            )
    return pd.DataFrame(rows)
