"""The shared look of every figure: the style file, fixed colours per batch size and optimizer, labels."""

from __future__ import annotations

import math
from contextlib import AbstractContextManager
from pathlib import Path

import matplotlib as mpl
import matplotlib.style
import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap

from optfactors.studies.common import display_name

FOOTNOTE_SIZE = 8.5


def joined_names(runs: pd.DataFrame, column: str) -> str:
    """The distinct values of a column, display names joined by '/'; '' if the column is absent."""
    if column not in runs:
        return ""
    return "/".join(display_name(str(v)) for v in sorted(runs[column].dropna().unique()))


STYLE_FILE = Path(__file__).with_name("optfactors.mplstyle")

#: log2 of the largest batch size on the colour scale; larger ones get its colour.
MAX_LOG2_BATCH = 16
#: Viridis without its last tenth (pale yellow, hard to see on white), interpolated finely enough that
#: close batch sizes (250 and 256) still get distinct colours.
BATCH_CMAP = LinearSegmentedColormap.from_list(
    "optfactors_batch", mpl.colormaps["viridis"](np.linspace(0.0, 0.9, 256)), N=4096
)

#: Okabe-Ito colours (colour-blind safe); SGD, the baseline, is black, the momentum family blue.
OPTIMIZER_COLORS = {
    "sgd": "#000000",
    "momentum": "#0072B2",
    "nesterov": "#56B4E9",
    "adagrad": "#009E73",
    "rmsprop": "#E69F00",
    "adam": "#D55E00",
    "adamw": "#CC79A7",
}
FALLBACK_COLOR = "#999999"
#: Small-batch (SB) and large-batch (LB) solutions: blue and vermillion (Okabe-Ito).
REGIME_COLORS = {"sb": "#0072B2", "lb": "#D55E00"}


def use_style() -> AbstractContextManager[None]:
    """Context manager applying the optfactors style (``with use_style(): fig = ...``)."""
    return matplotlib.style.context(STYLE_FILE)


def batch_size_color(batch_size: int) -> tuple[float, float, float, float]:
    """The RGBA colour of a batch size: log2(b) over 0..16 on viridis, dark = small, green-yellow = large."""
    if batch_size < 1:
        raise ValueError(f"batch size must be >= 1, got {batch_size}")
    return BATCH_CMAP(min(math.log2(batch_size), MAX_LOG2_BATCH) / MAX_LOG2_BATCH)


def optimizer_color(name: str) -> str:
    """The fixed colour of an optimizer (by its config name, case-insensitive); grey if unknown."""
    return OPTIMIZER_COLORS.get(name.lower(), FALLBACK_COLOR)
