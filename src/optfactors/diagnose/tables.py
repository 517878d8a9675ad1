"""The tables a diagnosis reads: runs.csv and curves.csv, found from what the user names."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from optfactors.diagnose.rules import REQUIRED


class TargetError(ValueError):
    """A target that names no results table or run records."""


def _read_curves(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, low_memory=False)
    except (FileNotFoundError, pd.errors.EmptyDataError):  # no curves: only the final metrics
        return pd.DataFrame(columns=["run_key", "updates", "train_loss"])


def _from_records(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    from optfactors.report.collect import readable_records, record_tables  # imports torch: only for records

    runs, curves = record_tables(readable_records(sorted(folder.glob("*.json"))))
    return runs, curves if len(curves) else _read_curves(folder / "no curves")


def load(target: str, results: Path) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """(where, runs, curves) for ``target``: a runs.csv (its curves.csv beside it), a folder holding
    runs.csv, a folder of run records (``*.json``, or a ``runs/`` folder of them), or an experiment name
    under ``results``."""
    where, runs, curves = _find(target, results)
    missing = [c for c in REQUIRED if c not in runs.columns]
    if missing:
        raise TargetError(
            f"{target}: {where} has no {', '.join(missing)}: not training runs, nothing to diagnose"
        )
    return where, runs, curves


def _find(target: str, results: Path) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    path = Path(target)
    if not path.exists() and (results / target).is_dir():
        path = results / target
    if path.is_file():
        return path, pd.read_csv(path, low_memory=False), _read_curves(path.with_name("curves.csv"))
    if (path / "runs.csv").is_file():
        return _find(str(path / "runs.csv"), results)
    for folder in (path, path / "runs"):
        if folder.is_dir() and any(folder.glob("*.json")):
            return (folder, *_from_records(folder))
    raise TargetError(
        f"{target}: not a runs.csv, a folder with runs.csv or run records, or an experiment in {results}/"
    )
