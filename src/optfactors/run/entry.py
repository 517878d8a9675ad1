"""The Hydra entry point (``optfactors run``): compose -> the run's stage -> its record, one line for a bad
config, data file or resource error; in a multirun the job's outcome for the sweep monitor."""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.utils import get_object
from omegaconf import DictConfig

from optfactors import CONF_DIR
from optfactors.data import DataError
from optfactors.run.config import ConfigError, check_choices
from optfactors.run.faults import is_resource_error, one_line_faults
from optfactors.run.launch import check_not_a_study_sweep, is_multirun
from optfactors.run.lifecycle import Stage
from optfactors.run.provenance import DirtyTreeError, check_results_dir
from optfactors.run.record import write_json_atomic
from optfactors.run.sweep import OUTCOME_FILE
from optfactors.stages.train import train

log = logging.getLogger("optfactors")


def remove_run_folder(folder: Path, experiment: str) -> None:
    """Remove a refused run's Hydra folder if it holds only what Hydra wrote (.hydra/, the log), and the
    default layout's ``outputs/<experiment>/`` above it when that is left empty."""
    if not folder.is_dir() or any(p.name != ".hydra" and p.suffix != ".log" for p in folder.iterdir()):
        return
    shutil.rmtree(folder, ignore_errors=True)
    parent = folder.parent
    if parent.name == experiment and parent.parent.name == "outputs":
        for empty in (parent, parent.parent):
            with contextlib.suppress(OSError):
                empty.rmdir()  # only if empty


def stage_of(cfg: DictConfig) -> Stage:
    """`train`, or the analysis stage ``cfg.stage`` names if there is one."""
    if "stage" not in cfg:
        return train
    try:
        stage = get_object(cfg.stage)
    except Exception as err:
        raise ConfigError(
            "stage", cfg.stage, f"an importable optfactors.run.lifecycle.Stage ({err})"
        ) from err
    if not isinstance(stage, Stage):
        raise ConfigError("stage", cfg.stage, "an optfactors.run.lifecycle.Stage")
    return stage


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
@one_line_faults
def main(cfg: DictConfig) -> None:
    """Run and record one run: training, or the analysis stage ``cfg.stage`` names.

    A single run with a bad config or data file prints one line and exits with code 2; a failing run
    raises. In a multirun neither stops the sweep: the job's outcome is written to its folder and the
    sweep monitor (optfactors.run.sweep) sums them up at the end and sets the exit code. A full disk, a
    refused write or a SIGTERM prints one line and exits (1, 143), in a sweep too (`one_line_faults`).
    """
    outcome: dict[str, Any]
    try:
        check_results_dir(cfg.paths.results)
    except DirtyTreeError as err:  # the same for every job of a sweep: stop it at the first
        print(f"optfactors: {err}", file=sys.stderr)
        sys.exit(2)
    try:
        check_choices(HydraConfig.get().runtime.choices, CONF_DIR)
        check_not_a_study_sweep(HydraConfig.get())
        stage = stage_of(cfg)
        record = stage(cfg)
        outcome = {
            "run_key": record["run_key"],
            "status": "skipped" if record.get("skipped") else record["status"],
            "error": record["error"],
            "wall_time_s": record["wall_time_s"],
        }
    except (ConfigError, DataError) as err:
        kind = "config" if isinstance(err, ConfigError) else "data"
        if not is_multirun():
            print(f"optfactors: {kind} error: {err}", file=sys.stderr)
            remove_run_folder(Path(cfg.paths.output), cfg.experiment_name)
            sys.exit(2)
        log.error("invalid run: %s error: %s", kind, err)
        outcome = {"run_key": None, "status": "invalid", "error": f"{kind} error: {err}"}
    except Exception as err:
        if not is_multirun() or is_resource_error(err):
            raise
        log.exception("run failed")
        outcome = {
            "run_key": stage.key(cfg),
            "status": "failed",
            "error": f"{type(err).__name__}: {err}",
        }
    write_json_atomic(Path(cfg.paths.output) / OUTCOME_FILE, outcome)
