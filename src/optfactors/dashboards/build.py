"""Dashboard specs -> wandb_workspaces reports: the mechanics only (what to draw is in the study manifests).

Building validates every panel against the library offline; saving (``Report.save()``) needs a W&B login.
"""

from __future__ import annotations

from typing import Any

import wandb_workspaces.reports.v2 as wr
from wandb_workspaces import expr

from optfactors.dashboards.spec import KEY_FIELDS, Spec

#: Panel fields that take a bare W&B key (a media or summary key), not a metric object.
NAME_FIELDS = ("media_keys", "table_name")


def metric(key: str) -> wr.Config | wr.SummaryMetric | str:
    """A spec key as the panels take it: ``config.a.b`` -> Config("a.b"), ``summary.k`` -> SummaryMetric("k"),
    ``history.k`` -> "k" (a logged metric)."""
    section, name = key.split(".", 1)
    if section == "config":
        return wr.Config(name)
    return wr.SummaryMetric(name) if section == "summary" else name


def argument(field: str, value: Any) -> Any:
    """A panel argument from its spec value: keys converted (one or a list), anything else as it is."""
    if field not in KEY_FIELDS:
        return value
    convert = (lambda key: key.split(".", 1)[1]) if field in NAME_FIELDS else metric
    return [convert(v) for v in value] if isinstance(value, list) else convert(value)


def panel(spec: Spec) -> Any:
    """The wandb_workspaces panel ``spec["type"]`` with the spec's other fields as its arguments."""
    return getattr(wr, spec["type"])(**{f: argument(f, v) for f, v in spec.items() if f != "type"})


def runset(spec: Spec, grid: Spec, entity: str) -> wr.Runset:
    """The runs of a grid: the study's group and profile, its report run or all its other runs."""
    job = expr.Metric("JobType")
    filters = [
        expr.Metric("Group") == spec["study"],
        expr.Tags().isin([spec["profile"]]),
        job == "report" if grid["runs"] == "report" else job != "report",
    ]
    return wr.Runset(
        entity=entity, project=spec["project"], name=grid["name"], filters=filters, groupby=grid["groupby"]
    )


def report(spec: Spec, entity: str) -> wr.Report:
    """The W&B report of one dashboard spec, owned by ``entity``: a heading and a panel grid a grid."""
    blocks: list[Any] = []
    for grid in spec["grids"]:
        blocks += [
            wr.H2(grid["name"]),
            wr.PanelGrid(runsets=[runset(spec, grid, entity)], panels=[panel(p) for p in grid["panels"]]),
        ]
    return wr.Report(
        project=spec["project"],
        entity=entity,
        title=spec["title"],
        description=spec["description"],
        blocks=blocks,
        width="fluid",
    )
