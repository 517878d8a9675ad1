"""The trained models a cross-run analysis reads: another experiment's runs, reused when their checkpoints
are on disk and trained (with that experiment's own config) when they are not."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import nn

from optfactors import CONF_DIR
from optfactors.run.checkpoint_io import load_checkpoint, readable_checkpoint
from optfactors.run.record import checkpoint_dir, read_record, record_path
from optfactors.stages.train import train

log = logging.getLogger(__name__)

#: Prefix of the model's weights in a task checkpoint's state_dict (``Classifier.model``).
MODEL_PREFIX = "model."


class SourceError(RuntimeError):
    """A source run exists but cannot be analysed (it diverged, or its checkpoint does not match)."""


@dataclass
class Solution:
    """A source run's trained model with its resolved config and record."""

    model: nn.Module
    config: DictConfig
    record: dict[str, Any]
    trained_now: bool


def compose_source(overrides: list[str]) -> DictConfig:
    """The config ``optfactors <overrides>`` composes (inside a Hydra app, or from the package's conf/)."""
    if GlobalHydra.instance().is_initialized():
        return compose(config_name="config", overrides=overrides)
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


def load_model(cfg: DictConfig, checkpoint: Path) -> nn.Module:
    """The model of ``cfg`` with the weights and buffers of a task checkpoint (``last.ckpt``), on the CPU."""
    model = instantiate(cfg.model)
    state = load_checkpoint(checkpoint)["state_dict"]
    weights = {k.removeprefix(MODEL_PREFIX): v for k, v in state.items() if k.startswith(MODEL_PREFIX)}
    try:
        model.load_state_dict(weights)
    except RuntimeError as err:
        raise SourceError(f"{checkpoint} does not fit the model of its run's config: {err}") from err
    return model


def source_key(overrides: list[str]) -> str:
    """The run key of the run ``optfactors <overrides>`` composes."""
    return train.key(compose_source(overrides))


def solution(overrides: list[str]) -> Solution:
    """The trained model of the run ``optfactors <overrides>`` composes.

    Reused when its record says ``ok`` and its ``last.ckpt`` was kept (``checkpoint.keep=true``) and can be
    read (an unreadable one is set aside as ``last.ckpt.corrupt``); trained otherwise, through
    `optfactors.stages.train.train` with the same config (so its record and checkpoint land where that
    experiment's own sweep puts them, and a later sweep of it skips the run). A run that diverged (recorded
    so, or now) has no solution to analyse: SourceError, without training it again.
    """
    cfg = compose_source(overrides)
    key = train.key(cfg)
    path = record_path(cfg.paths.results, cfg.experiment_name, key)
    checkpoint = checkpoint_dir(cfg.paths.results, cfg.experiment_name, key) / "last.ckpt"
    record = read_record(path)
    if record is not None and record["status"] == "diverged":  # same config and seed: it would diverge again
        raise SourceError(f"source run {cfg.experiment_name}/{key} ended diverged: {record.get('error')}")
    finished = record is not None and record["status"] == "ok"
    trained_now = not (finished and readable_checkpoint(checkpoint, "its run is trained again"))
    if trained_now:
        log.info("source run %s/%s has no kept checkpoint: training it (%s)", cfg.experiment_name, key, path)
        cfg.resume = False
        cfg.checkpoint.keep = True
        record = train(cfg)
    if record["status"] != "ok":
        raise SourceError(
            f"source run {cfg.experiment_name}/{key} ended {record['status']}: {record.get('error')}"
        )
    log.info("source run %s/%s: %s", cfg.experiment_name, key, checkpoint)
    return Solution(load_model(cfg, checkpoint), cfg, record, trained_now)
