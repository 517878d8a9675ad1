"""REPORT.md: every registered claim checked against its experiment's tables, with the figures linked.

Usage: ``python -m optfactors.report [--results DIR]`` (``make report``). Reads only the tables
``<DIR>/<experiment>/runs.csv`` and ``curves.csv``; claims are registered in
``optfactors.report.claims``, figures in ``optfactors.report.figures``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from optfactors.report.claims import CLAIMS, Claim, ClaimResult, check_claims
from optfactors.report.collect import EXTENDS, load_tables, status_counts, study_tables
from optfactors.report.figures import FIGURES, TABLES, write_tables

MARKS = {True: "✓", False: "✗", None: "—"}
HEADER = ("claim", "what the lecture/paper says", "measured", "reproduced", "command to rerun")


def rerun_command(experiment: str) -> str:
    """The command that reruns an experiment and regenerates its tables, figures and this report."""
    return f"make sweep EXP={experiment}"


def experiments(results_dir: Path) -> list[str]:
    """Experiments with a registered claim or figure (in registration order), then any others with tables."""
    registered = [c.experiment for c in CLAIMS.values()] + [f.experiment for f in FIGURES.values()]
    with_tables = sorted(p.parent.name for p in results_dir.glob("*/runs.csv"))
    return list(dict.fromkeys(registered + with_tables))


def _cell(text: str) -> str:
    """Text made safe for one Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(cells) + " |"


def _values(runs: pd.DataFrame, column: str) -> list[str]:
    """The distinct non-empty values of ``column``, most frequent first."""
    if column not in runs:
        return []
    return [str(v) for v in runs[column].dropna().astype(str).value_counts().index if v]


def provenance_line(runs: pd.DataFrame) -> str:
    """Where a study's numbers come from: its commit (flagged if several, or with uncommitted changes),
    machine, torch version and the dates its runs finished."""
    commits = _values(runs, "git_commit")
    if not commits:
        code = "⚠ commit not recorded"
    elif len(commits) > 1:
        named = ", ".join(c[:7] + ("-dirty" if c.endswith("-dirty") else "") for c in commits)
        code = f"⚠ mixes {len(commits)} commits ({named})"
    elif commits[0].endswith("-dirty"):
        code = f"⚠ commit `{commits[0][:7]}` with uncommitted changes"
    else:
        code = f"commit `{commits[0][:7]}`"
    parts = [code, " and ".join(_values(runs, "device")) or "machine not recorded"]
    torch = _values(runs, "torch_version")
    parts.append(f"torch {', '.join(torch)}" if torch else "torch version not recorded")
    dates = sorted({v[:10] for v in _values(runs, "finished_at")})
    parts.append(
        dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}" if dates else "date not recorded"
    )
    return "Provenance: " + " · ".join(parts) + "."


def verdict(results_dir: Path, claim: Claim, result: ClaimResult) -> str:
    """✓, ✗ or —; a ✗ whose claim has a budget trend says where the trend points (when it is decided)."""
    mark = MARKS[result.reproduced]
    if result.reproduced is not False or claim.trend is None:
        return mark
    trend = CLAIMS[claim.trend]
    tables = study_tables(results_dir, trend.experiment)
    toward = trend.fn(*tables).reproduced if tables is not None else None
    if toward is None:
        return mark
    return f"{mark} at this budget; trend {'toward' if toward else 'not toward'} ✓ (`{trend.claim_id}`)"


def experiment_section(results_dir: Path, experiment: str) -> list[str]:
    """Markdown of one experiment: run counts, the claims table, criteria, summary tables, figures."""
    command = f"`{rerun_command(experiment)}`"
    lines = [f"## {experiment}", ""]
    tables = load_tables(results_dir, experiment)
    if tables is None:
        return lines + [f"Not run yet: {command}", ""]
    runs = tables[0]
    lines += [f"{len(runs)} runs ({status_counts(runs)}). Rerun: {command}", "", provenance_line(runs), ""]
    if experiment in EXTENDS:
        lines += [
            "A budget study: its claims, tables and figures read these runs together with "
            f"`{EXTENDS[experiment]}`'s (the claim's own budget).",
            "",
        ]
    checked = check_claims(experiment, *study_tables(results_dir, experiment))
    if checked:
        lines += [_row(HEADER), _row(tuple("---" for _ in HEADER))]
        details = []
        for claim, result in checked:
            lines.append(
                _row(
                    (
                        f"`{claim.claim_id}`",
                        _cell(claim.lecture),
                        _cell(result.measured),
                        verdict(results_dir, claim, result),
                        command,
                    )
                )
            )
            if result.detail:
                details.append(f"- `{claim.claim_id}`: {_cell(result.detail)}")
        lines += [""] + details + ([""] if details else [])
    else:
        lines += ["No claims registered for this experiment yet.", ""]
    for name, (table_experiment, fn) in TABLES.items():
        table_md = results_dir / experiment / f"{name}.md"
        if table_experiment == experiment and table_md.is_file():
            summary = " ".join(
                line.strip() for line in (fn.__doc__ or "").strip().split("\n\n")[0].splitlines()
            )
            lines += [f"**{name}**: {summary} ([csv]({experiment}/{name}.csv))", "", table_md.read_text(), ""]
    figures = [
        f.name
        for f in FIGURES.values()
        if f.experiment == experiment and (results_dir / "figures" / f"{f.name}.png").is_file()
    ]
    for name in figures:
        lines += [f"![{name}](figures/{name}.png)", "", f"[{name}.pdf](figures/{name}.pdf)", ""]
    return lines


def write_report(results_dir: str | Path) -> Path:
    """Check every registered claim against the tables under ``results_dir``; write ``REPORT.md`` there."""
    results_dir = Path(results_dir)
    write_tables(results_dir)  # the summary tables shown below come from the same tables as the claims
    lines = [
        "# optfactors: results report",
        "",
        "Generated by `make report` (`python -m optfactors.report`) from the tables in this folder only "
        "(`<experiment>/runs.csv`, `curves.csv`); nothing is trained. Reproduced: ✓ yes, ✗ no, — not enough "
        "data to decide.",
        "",
    ]
    for experiment in experiments(results_dir):
        lines += experiment_section(results_dir, experiment)
    path = results_dir / "REPORT.md"
    results_dir.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip() + "\n")
    return path


def main(argv: list[str] | None = None) -> None:
    """Write REPORT.md and print where."""
    parser = argparse.ArgumentParser(description="Check every registered claim and write REPORT.md.")
    parser.add_argument("--results", default="results", help="results directory (default: results)")
    args = parser.parse_args(argv)
    print(f"wrote {write_report(args.results)}")
