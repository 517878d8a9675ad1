"""Figure registry: every figure is a function of an experiment's tables, drawn in the shared style.

A figure family module registers its functions with :func:`register_figure`; :func:`draw_all` draws each
one whose experiment has tables under the results directory into ``<results>/figures/<name>.png|pdf``.
Figure functions build a ``matplotlib.figure.Figure`` directly (no pyplot), so they need no backend.
Summary tables (``fn(runs, curves) -> DataFrame``, :func:`register_table`) are written the same way, to
``<results>/<experiment>/<name>.csv|md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from optfactors.report.collect import markdown_table, study_tables
from optfactors.report.figures.style import use_style
from optfactors.run.atomic import atomic_path, atomic_write_text

FigureFn = Callable[[pd.DataFrame, pd.DataFrame], Figure]
TableFn = Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]

#: Output formats with their save metadata: no creation date in PDFs, so redrawing unchanged tables
#: leaves the committed files unchanged.
FORMATS = {"png": None, "pdf": {"CreationDate": None}}


@dataclass(frozen=True)
class FigureSpec:
    """A registered figure: its file name, the experiment whose tables it reads, and its function."""

    name: str
    experiment: str
    fn: FigureFn


#: Every registered figure by name, in registration order.
FIGURES: dict[str, FigureSpec] = {}
#: Every registered summary table by name: (experiment, function).
TABLES: dict[str, tuple[str, TableFn]] = {}


def register_table(name: str, experiment: str) -> Callable[[TableFn], TableFn]:
    """Decorator registering ``fn(runs, curves) -> DataFrame`` as table ``name`` of ``experiment``."""

    def decorator(fn: TableFn) -> TableFn:
        if name in TABLES:
            raise ValueError(f"table {name!r} is already registered")
        TABLES[name] = (experiment, fn)
        return fn

    return decorator


def write_tables(results_dir: str | Path) -> list[Path]:
    """Write every registered table whose experiment has tables, as CSV and Markdown; return the files."""
    written: list[Path] = []
    for name, (experiment, fn) in TABLES.items():
        tables = study_tables(results_dir, experiment)
        if tables is None:
            continue
        table = fn(*tables)
        base = Path(results_dir) / experiment / name
        atomic_write_text(base.with_suffix(".csv"), table.to_csv(index=False))
        atomic_write_text(base.with_suffix(".md"), markdown_table(table) + "\n")
        written += [base.with_suffix(".csv"), base.with_suffix(".md")]
    return written


def register_figure(name: str, experiment: str) -> Callable[[FigureFn], FigureFn]:
    """Decorator registering ``fn(runs, curves) -> Figure`` as figure ``name`` of ``experiment``."""

    def decorator(fn: FigureFn) -> FigureFn:
        if name in FIGURES:
            raise ValueError(f"figure {name!r} is already registered")
        FIGURES[name] = FigureSpec(name, experiment, fn)
        return fn

    return decorator


def draw_all(results_dir: str | Path) -> list[Path]:
    """Draw every registered figure whose experiment has tables; return the files written."""
    out_dir = Path(results_dir) / "figures"
    written: list[Path] = []
    for spec in FIGURES.values():
        tables = study_tables(results_dir, spec.experiment)
        if tables is None:
            print(
                f"skip {spec.name}: no tables for experiment {spec.experiment!r} in {results_dir} "
                f"(make sweep EXP={spec.experiment})"
            )
            continue
        out_dir.mkdir(parents=True, exist_ok=True)
        with use_style():
            fig = spec.fn(*tables)  # a bare Figure, not registered with pyplot: freed when dropped
            for fmt, metadata in FORMATS.items():
                path = out_dir / f"{spec.name}.{fmt}"
                with atomic_path(path) as tmp:
                    fig.savefig(tmp, dpi=150, metadata=metadata)
                written.append(path)
    return written


# Figure families: imported for their registrations.
from optfactors.report.figures import (  # noqa: E402, F401
    batch_size,
    critical,
    critical_batch,
    depth,
    depth_budget,
    keskar,
    loss,
    optimizers,
    optimizers_budget,
    remedies,
    sharp_flat,
    stability,
    timing,
    toy,
)
