"""Warm-up, normalization, clipping: outcomes per learning rate."""

from __future__ import annotations

import pandas as pd

from optfactors.report.collect import ok_runs

LR = "optimizer.lr"


CLIP = "trainer.gradient_clip_val"


def by_lr(runs: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    """Per ``keys`` and learning rate: mean ``value`` over ok runs, and how many runs ran and diverged."""
    grouped = runs.groupby([*keys, LR])
    table = pd.DataFrame(
        {
            "runs": grouped.size(),
            "diverged": grouped["status"].apply(lambda s: int((s == "diverged").sum())),
        }
    )
    table[value] = ok_runs(runs).groupby([*keys, LR])[value].mean()
    return table.reset_index()
