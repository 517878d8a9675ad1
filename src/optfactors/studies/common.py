"""What study packages share: table columns, the runs that count, seed spreads, names as they read.

Pure pandas and the decision rule: a claim imports this, never plotting code or torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import pandas as pd
from numpy.typing import ArrayLike

from optfactors.decision import Decision, decide_interval, decide_ratio

#: The runs.csv column of the (global) batch size.
BATCH_SIZE = "data.batch_size"
#: The runs.csv columns of the learning rate and of gradient clipping.
LR = "optimizer.lr"
CLIP = "trainer.gradient_clip_val"

#: How config choice names read in titles, legends and claims; others are shown as they are.
DISPLAY_NAMES = {
    "mnist": "MNIST",
    "cifar10": "CIFAR-10",
    "mlp": "MLP",
    "lenet5": "LeNet-5",
    "keskar_f1": "F1",
    "keskar_c1": "C1",
    "keskar_c2": "C2",
    "sgd": "SGD",
    "momentum": "SGD+momentum",
    "nesterov": "Nesterov",
    "adagrad": "Adagrad",
    "rmsprop": "RMSProp",
    "adam": "Adam",
    "adamw": "AdamW",
}


def display_name(name: str) -> str:
    """A config choice name as it reads in a figure or a claim (``"mnist"`` -> ``"MNIST"``)."""
    return DISPLAY_NAMES.get(name, name)


def ok_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs that finished with status ok (the only ones that enter means)."""
    return runs[runs["status"] == "ok"]


def seed_std(value: float) -> float:
    """A standard deviation over seeds, 0.0 where one seed leaves it undefined (NaN)."""
    return 0.0 if pd.isna(value) else float(value)


def mean_std(mean: float, std: float, spec: str = ".2f") -> str:
    """``mean ± std``, or the mean alone where one seed leaves no std (NaN)."""
    return f"{mean:{spec}}" if pd.isna(std) else f"{mean:{spec}} ± {std:{spec}}"


def plain(value: float) -> str:
    """A number to 3 significant digits (all of its integer digits) without an exponent: 12,043, 612, 7.51,
    0.0564."""
    rounded = float(f"{value:.3g}")
    if not math.isfinite(rounded) or rounded == 0:
        return f"{value:g}"
    return f"{value:,.{max(0, 2 - math.floor(math.log10(abs(rounded))))}f}"


def positive_ratio(
    a: ArrayLike, b: ArrayLike, threshold: float = 1.0, side: str = "above", paired: bool = False
) -> Decision:
    """`decide_ratio` of a over b (ratio of geometric means over seeds), or no interval (verdict —) where a
    value <= 0 leaves no such ratio."""
    a, b = pd.Series(a, dtype=float), pd.Series(b, dtype=float)
    if (a <= 0).any() or (b <= 0).any():
        n = (len(a),) if paired else (len(a), len(b))
        method = f"{'paired' if paired else 'Welch'} t on logs"
        undefined = decide_interval(math.nan, math.nan, math.nan, threshold, side, n, method)
        return replace(undefined, reason="a value <= 0: no ratio of geometric means")
    return decide_ratio(a, b, threshold, side, paired)


def stage_rows(curves: pd.DataFrame, table: str) -> pd.DataFrame:
    """The rows of one of an analysis stage's tables (``table`` column of curves.csv), all-empty columns
    dropped."""
    if "table" not in curves.columns:
        return pd.DataFrame()
    return curves[curves["table"] == table].dropna(axis=1, how="all")


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


def seeds_mean_std(values: Sequence[float], spec: str = ".2f") -> str:
    """:func:`mean_std` of one value per seed (the mean alone for one seed)."""
    series = pd.Series(values, dtype=float)
    return mean_std(series.mean(), series.std(), spec)
