"""The dashboards the study manifests declare (``study.dashboard`` in ``experiments/<name>.yaml``) as
complete, deterministic specs: one a study, every grid's runs and panels as plain data, plus a last grid with
the study's report run (figures, tables, claims).

A key says where a value lives in a run: config.<dotted config path> (plus config.method.optimizer,
.schedule, .loss: the names runs.csv uses), summary.<summary key>, history.<metric logged per epoch>. A grid
is a panel grid over the study's runs, grouped by `groupby` (W&B aggregates each group: mean, and std where a
panel shows a range). A panel is a wandb_workspaces.reports.v2 panel: `type` names the class, the other fields
are its arguments, with keys for x, y, metrics and groupby.
"""

from __future__ import annotations

from typing import Any

from optfactors.dashboards.wandb_report import report_keys
from optfactors.manifest import ManifestError, studies

#: Where a key's value lives in a W&B run.
SECTIONS = ("config", "summary", "history")
#: Panel fields whose values are keys (one or a list); the other fields are plain panel arguments.
KEY_FIELDS = ("x", "y", "z", "metrics", "groupby", "media_keys", "table_name")

Spec = dict[str, Any]


def load_registry() -> dict[str, Spec]:
    """Study -> its manifest's dashboard with its title, for every study that declares one; every key checked
    to name a section."""
    registry = {s.name: {"title": f"{s.name}: {s.title}", **s.dashboard} for s in studies() if s.dashboard}
    for study, entry in registry.items():
        for grid in entry["grids"]:
            for key in grid_keys(grid):
                if key.split(".", 1)[0] not in SECTIONS or "." not in key:
                    raise ManifestError(
                        f"{study}: study.dashboard: key {key!r} starts with none of {SECTIONS}"
                    )
    return registry


def grid_keys(grid: Spec) -> list[str]:
    """Every key a grid reads: its groupby, then its panels' key fields."""
    keys = list(grid.get("groupby", []))
    for panel in grid["panels"]:
        for field in KEY_FIELDS:
            value = panel.get(field)
            keys += [] if value is None else value if isinstance(value, list) else [value]
    return keys


def report_grid(study: str) -> Spec:
    """The grid of the study's report run: its figures (media) and tables (the claims among them)."""
    keys = report_keys(study)
    panels: list[Spec] = []
    if keys["figures"]:
        media = [f"history.{key}" for key in keys["figures"]]
        panels.append({"type": "MediaBrowser", "title": "figures", "media_keys": media, "num_columns": 1})
    panels += [{"type": "WeavePanelSummaryTable", "table_name": f"summary.{key}"} for key in keys["tables"]]
    name = "report run: figures, tables and claims"
    return {"name": name, "runs": "report", "groupby": [], "panels": panels}


def dashboard_spec(study: str, entry: Spec, project: str, profile: str) -> Spec:
    """The full spec of one study's dashboard: the runs of ``study`` in ``project`` tagged ``profile``."""
    grids = [
        {"name": g["name"], "runs": "study", "groupby": g.get("groupby", []), "panels": g["panels"]}
        for g in entry["grids"]
    ]
    return {
        "study": study,
        "project": project,
        "profile": profile,
        "title": f"{entry['title']} ({profile} profile)",
        "description": entry["description"],
        "grids": [*grids, report_grid(study)],
    }


def dashboard_specs(project: str, profile: str) -> dict[str, Spec]:
    """Every dashboard spec the manifests declare, by study name."""
    return {study: dashboard_spec(study, entry, project, profile) for study, entry in load_registry().items()}


def spec_keys(spec: Spec, runs: str) -> set[str]:
    """The keys the grids of ``spec`` over ``runs`` (``study``: its runs, ``report``: its report run) read."""
    return {key for grid in spec["grids"] if grid["runs"] == runs for key in grid_keys(grid)}
