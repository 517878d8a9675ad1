"""Summaries of an experiment's tables that its claims and its figures both read (one definition each)."""

from __future__ import annotations

import pandas as pd


def mean_std(mean: float, std: float, spec: str = ".2f") -> str:
    """``mean ± std``, or the mean alone where one seed leaves no std (NaN)."""
    return f"{mean:{spec}}" if pd.isna(std) else f"{mean:{spec}} ± {std:{spec}}"
