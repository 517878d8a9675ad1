"""What every benchmark shares: one measurement row, a median timer, the CSV and the printed table."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from optfactors import CONF_DIR
from optfactors.device import default_device, synchronize
from optfactors.report.load import markdown_table
from optfactors.run.atomic import atomic_write_text


@dataclass(frozen=True)
class Measurement:
    """One row of bench.csv: what was measured, its value and unit; for a comparison, the ratio to the
    reference, the target it must meet (a bound on the ratio, ``<= x`` or ``>= x``) and whether it does."""

    name: str
    batch_size: int | None
    value: float
    unit: str
    ratio: float | None = None
    target: str | None = None
    met: bool | None = None


def meets(ratio: float, target: str) -> bool:
    """Whether ``ratio`` satisfies ``target`` (``"<= 3"`` or ``">= 0.5"``)."""
    op, bound = target.split()
    return ratio <= float(bound) if op == "<=" else ratio >= float(bound)


def compared(
    name: str, batch_size: int | None, value: float, reference: float, unit: str, target: str
) -> Measurement:
    """A measurement with its ratio to ``reference`` checked against ``target``."""
    ratio = value / reference
    return Measurement(name, batch_size, value, unit, ratio, target, meets(ratio, target))


def project_config(*overrides: str) -> DictConfig:
    """The project's config with ``overrides`` (CSV logging, no progress bar), as the CLI composes it."""
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        return compose(
            "config",
            overrides=["logger=csv", "trainer.enable_progress_bar=false", "paths.output=.", *overrides],
        )


def median_time(fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 1) -> dict[str, float]:
    """Median wall time (s) of each function over ``repeats`` rounds, run interleaved (round-robin), so that
    drifts of the machine's speed hit all of them alike; ``warmup`` untimed rounds first."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            gc.collect()
            synchronize(default_device())  # timings include the work, not its launch
            start = time.perf_counter()
            fn()
            synchronize(default_device())
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def write(measurements: list[Measurement], path: Path) -> pd.DataFrame:
    """Write the measurements to ``path`` (CSV) and return them as a table."""
    table = pd.DataFrame([asdict(m) for m in measurements])
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, table.to_csv(index=False))
    return table


def as_markdown(table: pd.DataFrame) -> str:
    """The table (bench.csv's or `history.spread`'s columns) with rounded numbers and ✓/✗ for targets, as
    Markdown."""
    formats = {
        "value": lambda v: f"{v:.4g}",
        "ratio": lambda v: "" if pd.isna(v) else f"{v:.2f}",
        "ratios": lambda v: " / ".join(f"{r:.2f}" for r in v),
        "median": lambda v: f"{v:.2f}",
        "met": lambda v: "" if v is None or pd.isna(v) else ("✓" if v else "✗"),
        "batch_size": lambda v: "" if pd.isna(v) else int(v),
    }
    shown = table.copy()
    for column, fmt in formats.items():
        if column in shown:
            shown[column] = shown[column].map(fmt)
    return markdown_table(shown)
