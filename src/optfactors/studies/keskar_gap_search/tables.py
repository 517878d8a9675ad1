"""Summary tables of keskar_gap_search."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optfactors.report.tables import register_table
from optfactors.studies.common import (
    display_name,
    ok_runs,
    seed_std,
)
from optfactors.studies.keskar_gap.tables import is_capped


def network_variant(row: pd.Series) -> str:
    """The network with the widths that tell its variants apart: "F1 512x5", "C1 16 filters, dense [128,
    64], dropout 0", "MLP [512, 512]"."""
    name = display_name(row["model"])
    if row["model"] == "keskar_f1":
        return f"{name} {int(row['model.width'])}x{int(row['model.depth'])}"
    if row["model"] == "keskar_c1" and "model.filters" in row and pd.notna(row["model.filters"]):
        filters, dense, dropout = int(row["model.filters"]), row["model.dense"], row["model.dropout"]
        return f"{name} {filters} filters, dense {dense}, dropout {dropout:g}"
    if row["model"] == "mlp":
        return f"{name} {row['model.hidden']}"
    return name


def setting_columns(runs: pd.DataFrame) -> pd.DataFrame:
    """Per run, what defines its gap-search setting: dataset, training-set size, network variant,
    optimizer, learning rate, loss target, and the SB and LB batch sizes of its dataset's sizes."""

    def sizes(row: pd.Series, regime: str) -> int:
        return int(row[f"sizes.{row['dataset']}.{regime}"])

    return pd.DataFrame(
        {
            "data": runs["dataset"].map(display_name),
            "train samples": runs["train_samples"].astype(int),
            "network": runs.apply(network_variant, axis=1),
            "optimizer": runs["optimizer"],
            "lr": runs["optimizer.lr"],
            "SB": runs.apply(sizes, axis=1, regime="sb"),
            "LB": runs.apply(sizes, axis=1, regime="lb"),
            "loss target": runs.get("early_stopping.target", pd.Series(np.nan, index=runs.index)),
        },
        index=runs.index,
    )


#: The config-group choice naming a search candidate (conf/candidate/), when the runs came through Hydra.
CANDIDATE = "choice.candidate"


def candidate_settings(runs: pd.DataFrame) -> pd.DataFrame:
    """:func:`setting_columns` after the search candidate: runs are pooled within a candidate only, since
    candidates may differ in what the columns do not show (e.g. the epoch cap, or the round they ran in)."""
    setting = setting_columns(runs)
    setting.insert(0, "candidate", runs[CANDIDATE].fillna("") if CANDIDATE in runs else "")
    return setting


@register_table("search")
def search(runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Every setting the generalization-gap search tried (conf/candidate/ and LB sizes swept over one), one
    row each: SB and LB each trained until the training loss reached the target or stopped
    improving, on the search seeds; mean train and test accuracy, the gap SB - LB ± its seed standard
    deviation, epochs, how many runs stopped at the epoch cap, and the wall time of the row's runs. Settings
    of one candidate that differ only in LB share their SB runs (an SB run does not use the LB size); a
    setting left before its LB runs shows 0 seeds. The chosen settings are confirmed on other seeds in
    keskar_gap. The commands that made these runs: README.md, "The generalization-gap search"."""
    ok = ok_runs(runs)
    if ok.empty:
        return pd.DataFrame()
    frame = ok.assign(capped=is_capped(ok))
    setting = candidate_settings(ok)
    keys = list(setting.columns)
    full = setting.apply(tuple, axis=1)
    without_lb = setting.drop(columns="LB").apply(tuple, axis=1)
    rows = []
    for values in dict.fromkeys(full):
        lb = frame[(full == values) & (frame["regime"] == "lb")]
        sb_key = tuple(v for k, v in zip(keys, values, strict=True) if k != "LB")
        sb = frame[(without_lb == sb_key) & (frame["regime"] == "sb")]
        if lb.empty and (full[sb.index] != values).all():
            continue  # an SB-only setting is listed once, under its own LB size
        by = {"sb": sb, "lb": lb}
        train = {r: 100 * f["train_eval_acc"].mean() for r, f in by.items()}
        test = {r: 100 * f["test_acc"].mean() for r, f in by.items()}
        gap = test["sb"] - test["lb"]
        gap_std = sum(seed_std(100 * f["test_acc"].std()) ** 2 for f in by.values()) ** 0.5
        both = pd.concat([sb, lb])
        rows.append(
            {
                **dict(zip(keys, values, strict=True)),
                "epochs SB": round(sb["epochs"].mean(), 1),
                "epochs LB": round(lb["epochs"].mean(), 1),
                "capped runs": int(both["capped"].sum()),
                "train SB (%)": round(train["sb"], 2),
                "train LB (%)": round(train["lb"], 2),
                "test SB (%)": round(test["sb"], 2),
                "test LB (%)": round(test["lb"], 2),
                "gap (points)": round(gap, 2),
                "gap std": round(gap_std, 2),
                # Undecided (None) without two seeds in each regime: no spread to compare with.
                "gap > 2 std": bool(gap > 2 * gap_std) if min(len(sb), len(lb)) >= 2 else None,
                "seeds": int(min(len(sb), len(lb))),
                "wall time (min)": round(both["wall_time_s"].sum() / 60, 1),
            }
        )
    return pd.DataFrame(rows)
