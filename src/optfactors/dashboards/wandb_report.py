"""Each study's report to W&B: one run per study (``job_type=report``, in the study's group, beside its
runs) holding its tables (``tables/runs``, ``tables/claims`` and every registered summary table, as
``wandb.Table``), its figures (``figures/<name>``) and its claim outcomes (summary ``claims/<id>``: true,
false or null for not decided).

Usage: ``python -m optfactors.dashboards.wandb_report [--results DIR]`` (``make publish``).
Online when logged in to W&B, else offline into ``<DIR>/wandb/`` (``wandb sync`` uploads it later). It reads
only what ``make report`` wrote, and a W&B failure is one printed line, never an error: the report is already
written.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from optfactors.report.claims import CLAIMS, check_claims
from optfactors.report.collect import status_counts
from optfactors.report.figures import FIGURES
from optfactors.report.load import load_tables
from optfactors.report.markdown import MARKS, experiments
from optfactors.report.tables import TABLES
from optfactors.run.wandb_target import wandb_project


def report_keys(study: str) -> dict[str, list[str]]:
    """The table and figure keys a study's report run logs when all its files exist (dashboards use them)."""
    claims = ["tables/claims"] if any(c.experiment == study for c in CLAIMS.values()) else []
    tables = [f"tables/{name}" for name, (experiment, _) in TABLES.items() if experiment == study]
    figures = [f"figures/{name}" for name, spec in FIGURES.items() if spec.experiment == study]
    return {"tables": ["tables/runs", *claims, *tables], "figures": figures}


def claims_table(study: str, runs: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Every registered claim of ``study`` checked against its tables, one row a claim (as in REPORT.md)."""
    rows = []
    for claim, result in check_claims(study, runs, curves):
        rows.append(
            {
                "claim": claim.claim_id,
                "lecture": claim.lecture,
                "measured": result.measured,
                "reproduced": result.reproduced,
                "mark": MARKS[result.reproduced],
                "detail": result.detail,
            }
        )
    return pd.DataFrame(rows)


def table_values(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as ``wandb.Table`` accepts it: text columns as strings, every missing value None."""

    def column(col: pd.Series) -> pd.Series:
        if pd.api.types.is_numeric_dtype(col):
            return col
        return col.map(lambda v: None if pd.isna(v) else str(v))

    frame = frame.apply(column)
    return frame.astype(object).where(frame.notna(), None)


def study_content(
    results_dir: Path, study: str
) -> tuple[dict[str, pd.DataFrame], dict[str, Path], dict[str, Any]]:
    """A study's (tables, figure files, summary) from ``results_dir``; tables and figures by their W&B key."""
    runs, curves = load_tables(results_dir, study)
    claims = claims_table(study, runs, curves)
    tables = {"tables/runs": runs}
    if len(claims):
        tables["tables/claims"] = claims
    for name, (experiment, _) in TABLES.items():
        csv = results_dir / study / f"{name}.csv"
        if experiment == study and csv.is_file():
            tables[f"tables/{name}"] = pd.read_csv(csv)
    figures = {
        f"figures/{name}": results_dir / "figures" / f"{name}.png"
        for name, spec in FIGURES.items()
        if spec.experiment == study and (results_dir / "figures" / f"{name}.png").is_file()
    }
    summary: dict[str, Any] = {"runs": len(runs), "statuses": status_counts(runs)}
    summary.update({f"claims/{row.claim}": row.reproduced for row in claims.itertuples()})
    return tables, figures, summary


def log_study(results_dir: Path, study: str, project: str, entity: str | None, mode: str) -> str:
    """Log one study's report run; return where it went (its URL online, its folder offline)."""
    import wandb  # here, so that a missing or broken wandb never stops `make publish`

    tables, figures, summary = study_content(results_dir, study)
    runs = tables["tables/runs"]
    # Hydra's choice of profile: every run has it (an analysis stage's config need not hold the profile)
    profiles = sorted(runs["choice.profile"].dropna().unique()) if "choice.profile" in runs else []
    run = wandb.init(
        project=project,
        entity=entity,
        group=study,
        job_type="report",
        name=f"{study} report",
        id="-".join(["report", study, *profiles]),  # one run per study and profile: a new report resumes it
        resume="allow",
        tags=["report", *profiles],
        config={"results": str(results_dir)},
        dir=results_dir,  # wandb writes into its wandb/ folder
        mode=mode,
        settings=wandb.Settings(silent=True),
    )
    try:
        payload: dict[str, Any] = {key: wandb.Table(dataframe=table_values(t)) for key, t in tables.items()}
        payload.update({key: wandb.Image(str(path)) for key, path in figures.items()})
        run.log(payload)
        run.summary.update(summary)
        return run.url if mode == "online" else run.dir.removesuffix("/files")
    finally:
        run.finish()


def log_reports(results_dir: str | Path) -> list[str]:
    """Log the report run of every study with tables under ``results_dir``; one line of outcome a study."""
    results_dir = Path(results_dir)
    project, entity, mode = wandb_project()
    if mode == "disabled":
        return ["W&B is disabled (WANDB_MODE=disabled): no report runs logged"]
    lines = []
    studies = [s for s in experiments(results_dir) if load_tables(results_dir, s) is not None]
    for i, study in enumerate(studies):
        try:
            where = log_study(results_dir, study, project, entity, mode)
            lines.append(f"W&B report run of {study} ({mode}): {where}")
        except Exception as err:  # the report is written: W&B must not fail it
            lines.append(f"W&B report run of {study} not logged: {type(err).__name__}: {err}")
            if mode == "online" and i + 1 < len(studies):  # unreachable: each try would wait for a timeout
                lines.append(f"W&B report runs of the {len(studies) - i - 1} other studies not tried")
                break
    return lines


def main(argv: list[str] | None = None) -> None:
    """Log every study's report run and print one line each."""
    parser = argparse.ArgumentParser(description="Log each study's tables, figures and claims to W&B.")
    parser.add_argument("--results", default="results", help="results directory (default: results)")
    args = parser.parse_args(argv)
    for line in log_reports(args.results):
        print(line)


if __name__ == "__main__":
    main()
