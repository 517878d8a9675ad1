"""An analysis stage's ``finish``: its record's metrics, tables, line plots and figures to its loggers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from optfactors.report.collect import run_row
from optfactors.report.figures import FIGURES, FORMATS
from optfactors.report.style import use_style
from optfactors.run.lifecycle import Run
from optfactors.run.loggers import log_to_wandb

Tables = dict[str, pd.DataFrame]
#: W&B line plots: name -> (table, x, y, series column or None).
LinePlots = dict[str, tuple[str, str, str, str | None]]


def publish(
    line_plots: LinePlots | None = None, derived: Callable[[Tables], Tables] | None = None
) -> Callable[[Run, dict[str, Any]], None]:
    """A ``finish`` that logs an ``ok`` record: its summary metrics to every logger; to W&B its tables (one
    per ``table`` of the long table, plus ``derived(tables)``), ``line_plots`` and the figures of its
    experiment drawn from this run alone (also saved as PNG under the run's ``output/figures``)."""

    def finish(run: Run, record: dict[str, Any]) -> None:
        if record["status"] != "ok":
            return
        for logger in run.loggers:
            logger.log_metrics(record["metrics"])
            logger.save()
        runs = pd.DataFrame([run_row(record)])
        curves = pd.DataFrame([{"run_key": record["run_key"], **row} for row in record["curve"]])
        tables = {name: part.dropna(axis=1, how="all") for name, part in curves.groupby("table")}
        if derived is not None:
            tables.update(derived(tables))
        figures = Path(run.cfg.paths.output) / "figures"
        figures.mkdir(parents=True, exist_ok=True)
        images = {}
        for spec in FIGURES.values():
            if spec.experiment == record["experiment"]:
                with use_style():
                    images[spec.name] = figures / f"{spec.name}.png"
                    spec.fn(runs, curves).savefig(images[spec.name], dpi=110, metadata=FORMATS["png"])
        log_to_wandb(run.loggers, tables, images, line_plots or {})

    return finish
