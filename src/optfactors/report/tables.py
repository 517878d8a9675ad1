"""Summary-table registry: each summary table is a function of a study's tables.

A study's ``tables.py`` (``optfactors.studies.<study>.tables``, found by discovery) registers
``fn(runs, curves) -> DataFrame`` with :func:`register_table`; :func:`write_tables` writes each one whose
study has tables to ``<results>/<study>/<name>.csv|md``. No plotting code.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from optfactors.report.load import markdown_table, study_tables
from optfactors.run.atomic import atomic_write_text
from optfactors.studies import discover, study_of

TableFn = Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]

#: Every registered summary table by name: (study, function).
TABLES: dict[str, tuple[str, TableFn]] = {}


def register_table(name: str) -> Callable[[TableFn], TableFn]:
    """Decorator registering ``fn(runs, curves) -> DataFrame`` as table ``name`` of the study whose package
    defines it."""

    def decorator(fn: TableFn) -> TableFn:
        if name in TABLES:
            raise ValueError(f"table {name!r} is already registered")
        TABLES[name] = (study_of(fn.__module__), fn)
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


discover("tables")  # every study's tables.py registers its tables
