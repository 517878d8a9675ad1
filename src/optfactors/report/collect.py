"""Run records -> tidy tables: ``runs.csv`` (one row a run) and ``curves.csv`` (one row a run-epoch).

Usage: ``python -m optfactors.report.collect EXPERIMENT [--results DIR]``
(``optfactors collect``; the console script ``optfactors-collect`` is its old alias).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from optfactors.report.load import load_tables
from optfactors.run.atomic import atomic_write_text
from optfactors.run.config import train_size
from optfactors.run.faults import reason
from optfactors.run.naming import method_columns
from optfactors.run.record import STATUSES, parse_record

#: Config columns left out of runs.csv: where files were on the machine that ran, not what was run.
LOCAL_COLUMNS = ("paths.results", "paths.output", "data.root", "profile.results_suffix")

RUN_FIELDS = (
    "run_key",
    "experiment",
    "status",
    "error",
    "epochs",
    "stop_reason",
    "updates",
    "time_per_update_s",
    "wall_time_s",
    "device",
    "processes",
    "git_commit",
    "finished_at",
)


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists become JSON strings so every cell is a scalar."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = json.dumps(value) if isinstance(value, list) else value
    return flat


def load_records(experiment_dir: Path) -> list[dict[str, Any]]:
    """Every readable run record of an experiment, in run-key order (`readable_records`)."""
    return readable_records(sorted((experiment_dir / "runs").glob("*.json")))


def readable_records(paths: list[Path]) -> list[dict[str, Any]]:
    """The run records at ``paths``; one that cannot be read (cut short, garbled) is skipped with one line on
    stderr naming it (a rerun of its run sets it aside and does the run again)."""
    records = []
    for path in paths:
        try:
            records.append(parse_record(path))
        except ValueError as err:
            print(f"skipped {path}: not a readable run record ({reason(err)})", file=sys.stderr)
    return records


def run_row(record: dict[str, Any]) -> dict[str, Any]:
    """One runs.csv row: run fields, dataset and model, final metrics, timing, the Hydra choices and the
    flattened config."""
    row = {field: record.get(field) for field in RUN_FIELDS}
    row["diverged_epoch"] = (record.get("diverged_at") or {}).get("epoch")
    row["torch_version"] = (record.get("versions") or {}).get("torch")
    epoch_times = record.get("time_per_epoch_s") or []
    row["time_per_epoch_s"] = statistics.median(epoch_times) if epoch_times else None
    config = record["config"]  # the settings that define the run: an analysis stage's may lack data, model
    if "data" in config:
        row["dataset"], row["train_samples"] = config["data"]["name"], train_size(config["data"])
    if "model" in config:
        row["model"] = config["model"]["_target_"].rsplit(".", 1)[-1]  # the builder: mlp, keskar_c1, ...
    row.update(method_columns(config))
    row.update(record.get("metrics", {}))
    row.update(flatten(record.get("choices", {}), "choice."))
    row.update({k: v for k, v in flatten(config).items() if k not in LOCAL_COLUMNS})
    return row


def record_tables(records: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run records as a runs table (one row a run) and a curves table (one row a run-epoch)."""
    runs = pd.DataFrame([run_row(r) for r in records])
    curves = pd.DataFrame([{"run_key": r["run_key"], **row} for r in records for row in r.get("curve", [])])
    return runs, curves


def collect(
    results_dir: str | Path, experiment: str, keep_missing: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write ``<results_dir>/<experiment>/runs.csv`` and ``curves.csv`` from its run records; return both.

    ``keep_missing`` keeps the rows of the existing tables whose run has no record here (records are not
    committed, so a clone that adds runs to a committed experiment would otherwise drop the others).
    """
    exp_dir = Path(results_dir) / experiment
    records = load_records(exp_dir)
    if not records:
        raise FileNotFoundError(f"no run records in {exp_dir / 'runs'}: run the sweep first")
    runs, curves = record_tables(records)
    previous = load_tables(results_dir, experiment) if keep_missing else None
    if previous is not None:
        old_runs, old_curves = previous
        missing = ~old_runs["run_key"].isin(runs["run_key"])
        runs = pd.concat([old_runs[missing], runs], ignore_index=True)
        kept = old_curves["run_key"].isin(old_runs.loc[missing, "run_key"])
        curves = pd.concat([old_curves[kept], curves], ignore_index=True)
    atomic_write_text(exp_dir / "runs.csv", runs.to_csv(index=False))
    atomic_write_text(exp_dir / "curves.csv", curves.to_csv(index=False))
    return runs, curves


def status_counts(runs: pd.DataFrame) -> str:
    """``"3 ok, 1 diverged, 0 failed"``: how many runs ended in each status."""
    counts = runs["status"].value_counts()
    return ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES)


def main(argv: list[str] | None = None) -> None:
    """Collect one experiment's records and print how many runs ended in each status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", help="experiment name (folder under the results directory)")
    parser.add_argument("--results", default="results", help="results directory (default: results)")
    parser.add_argument(
        "--keep-missing",
        action="store_true",
        help="keep the rows of the existing runs.csv/curves.csv whose run has no record here",
    )
    args = parser.parse_args(argv)
    try:
        runs, curves = collect(args.results, args.experiment, keep_missing=args.keep_missing)
    except FileNotFoundError as err:  # no readable record: one line, exit code 1
        sys.exit(f"optfactors collect: {err}")
    print(f"{args.experiment}: {len(runs)} runs ({status_counts(runs)}), {len(curves)} epoch rows")
    print(f"  -> {Path(args.results, args.experiment)}/runs.csv, curves.csv")


if __name__ == "__main__":
    main()
