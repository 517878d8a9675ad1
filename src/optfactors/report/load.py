"""A study's committed tables as DataFrames, and tables as Markdown: what claims, summary tables, figures
and the report read (pure pandas: no torch, no plotting)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from optfactors.manifest import manifests


def load_tables(results_dir: str | Path, experiment: str) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """An experiment's ``runs.csv`` and ``curves.csv``, or None if either is missing.

    ``curves.csv`` is empty (no columns) when no run finished an epoch; it then loads as an empty table.
    """
    exp_dir = Path(results_dir) / experiment
    runs_csv, curves_csv = exp_dir / "runs.csv", exp_dir / "curves.csv"
    if not (runs_csv.is_file() and curves_csv.is_file()):
        return None
    try:
        curves = pd.read_csv(curves_csv, low_memory=False)
    except pd.errors.EmptyDataError:
        curves = pd.DataFrame(columns=["run_key", "epoch"])
    return pd.read_csv(runs_csv), curves


def study_tables(results_dir: str | Path, experiment: str) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The tables a study's claims, summary tables and figures read: its own (:func:`load_tables`) and, for a
    budget study, those of the study it extends appended (their ``experiment`` column tells them apart)."""
    tables = load_tables(results_dir, experiment)
    manifest = manifests().get(experiment)
    extends = manifest.extends if manifest is not None else None
    extended = load_tables(results_dir, extends) if extends is not None and tables else None
    if extended is None:
        return tables
    runs, curves = (pd.concat(pair, ignore_index=True) for pair in zip(tables, extended, strict=True))
    return runs, curves


def markdown_table(table: pd.DataFrame) -> str:
    """A DataFrame as a GitHub Markdown table (cells as they print; ``|`` escaped)."""

    def row(cells: list) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    lines = [row(list(table.columns)), row(["---"] * len(table.columns))]
    lines += [row(["" if pd.isna(v) else v for v in values]) for values in table.itertuples(index=False)]
    return "\n".join(lines)
