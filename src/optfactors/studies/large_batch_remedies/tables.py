"""large_batch_remedies: per remedy, accuracy, the share of the SB-LB gap it closes, sharpness, cost."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optfactors.report.tables import register_table

#: The two references: no remedy at the small and at the large batch.
SB, LB = "small_batch", "large_batch"


#: runs.csv column naming a run's remedy (its `+remedy=` choice).
REMEDY = "choice.remedy"


SHARPNESS, TOP_EIGENVALUE = "train_eval_epsilon_sharpness", "train_eval_top_eigenvalue"


def remedy_order(runs: pd.DataFrame) -> list[str]:
    """The remedies run: the references first, then the others in run order."""
    present = list(dict.fromkeys(runs[REMEDY])) if REMEDY in runs else []
    return [r for r in (SB, LB) if r in present] + [r for r in present if r not in (SB, LB)]


def per_seed(runs: pd.DataFrame, column: str, scale: float = 1.0) -> dict[str, pd.Series]:
    """Per remedy (:func:`remedy_order`): ``scale`` x ``column`` of its ok runs, one value per seed, seeds
    without one (diverged, or not measured) left out."""
    ok = runs[runs["status"] == "ok"]
    values = ok[column] if column in ok else pd.Series(np.nan, index=ok.index)
    return {remedy: scale * values[ok[REMEDY] == remedy].dropna() for remedy in remedy_order(runs)}


def remedy_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per remedy (references first, then in run order): ok seeds (and how many diverged), train and
    test accuracy (%, mean and std over seeds), the share of the gap closed ``(test - LB) / (SB - LB)`` on
    the means (NaN without both references), ε-sharpness and top eigenvalue (means), epochs, updates and
    wall time (means)."""
    if REMEDY not in runs or runs.empty:
        return pd.DataFrame()
    rows = []
    for remedy in remedy_order(runs):
        group = runs[runs[REMEDY] == remedy]
        ok = group[group["status"] == "ok"]
        acc = 100 * ok[["train_eval_acc", "test_acc"]]
        rows.append(
            {
                "remedy": remedy,
                "seeds": len(ok),
                "diverged": int((group["status"] == "diverged").sum()),
                "lr": float(group["optimizer.lr"].iloc[0]),
                "batch_size": int(group["data.batch_size"].iloc[0]),
                "train_acc_mean": acc["train_eval_acc"].mean(),
                "test_acc_mean": acc["test_acc"].mean(),
                "test_acc_std": acc["test_acc"].std(),
                "epsilon_sharpness": ok[SHARPNESS].mean() if SHARPNESS in ok else np.nan,
                "top_eigenvalue": ok[TOP_EIGENVALUE].mean() if TOP_EIGENVALUE in ok else np.nan,
                "epochs": ok["epochs"].mean(),
                "updates": ok["updates"].mean(),
                "wall_time_s": ok["wall_time_s"].mean(),
                "stop": ",".join(sorted(set(ok["stop_reason"].dropna()))) if "stop_reason" in ok else "",
            }
        )
    summary = pd.DataFrame(rows)
    refs = summary.set_index("remedy")["test_acc_mean"]
    gap = refs.get(SB, np.nan) - refs.get(LB, np.nan)
    summary["gap_closed"] = (summary["test_acc_mean"] - refs.get(LB, np.nan)) / gap if gap > 0 else np.nan
    return summary


@register_table("remedies")
def remedies_table(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """The remedy summary, rounded for reading."""
    summary = remedy_summary(runs)
    if summary.empty:
        return summary
    summary["gap_closed_pct"] = 100 * summary.pop("gap_closed")
    return summary.round(
        {
            "train_acc_mean": 2,
            "test_acc_mean": 2,
            "test_acc_std": 2,
            "gap_closed_pct": 0,
            "epsilon_sharpness": 4,
            "top_eigenvalue": 1,
            "epochs": 1,
            "updates": 0,
            "wall_time_s": 0,
        }
    )
