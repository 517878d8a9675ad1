"""Which runs.csv columns describe what a run trained, and the few that tell a study's runs apart."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

#: runs.csv config columns that do not describe what was trained.
NOT_TRAINING = ("choice.", "logger.", "checkpoint.", "sizes.", "profile.", "paths.")


def present(value: Any) -> bool:
    """Not None and not NaN (an empty runs.csv cell)."""
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def fmt(value: Any) -> str:
    """A config value as a label shows it: numbers compact, missing as null."""
    if not present(value):
        return "null"
    return f"{value:g}" if isinstance(value, float) else str(value)


def config_columns(runs: pd.DataFrame) -> list[str]:
    """The runs.csv columns that describe what was trained (the flattened config, seed included)."""
    dotted = [c for c in runs.columns if "." in c and not c.startswith(NOT_TRAINING)]
    return dotted + [c for c in ("seed", "bn_eval", "early_stopping") if c in runs.columns]


def label_columns(runs: pd.DataFrame, config: list[str]) -> list[str]:
    """Columns that tell the runs apart, added one at a time while they tell more (Hydra's choices first,
    then the config, the seed last)."""
    candidates = [c for c in runs.columns if c.startswith("choice.")] + [c for c in config if c != "seed"]
    chosen: list[str] = []
    distinct = 1
    for column in candidates:
        n = len(runs[[*chosen, column]].map(fmt).drop_duplicates())
        if n > distinct:
            chosen, distinct = [*chosen, column], n
    return chosen + (["seed"] if "seed" in runs.columns and runs["seed"].nunique() > 1 else [])


def label(row: dict[str, Any], columns: list[str]) -> str:
    """``model.depth=56 model.residual=False seed=1``."""
    return " ".join(f"{c.removeprefix('choice.')}={fmt(row[c])}" for c in columns)


def key(row: dict[str, Any], columns: list[str]) -> tuple[str, ...]:
    """The values of ``columns`` but the seed: which setting a run belongs to."""
    return tuple(fmt(row[c]) for c in columns if c != "seed")
