"""The paper profiles are the papers' protocols: what each composes to (no training), and the mechanics a
protocol needs (runs that only their stopping rule ends)."""

from __future__ import annotations

import math
from functools import partial
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from hydra import compose, initialize_config_dir
from torch import nn

from optfactors import CONF_DIR, schedules
from optfactors.run.config import ConfigError, validate
from optfactors.run.record import resolved_config
from optfactors.task import Classifier


def paper(experiment: str, *overrides: str) -> dict[str, Any]:
    """The resolved config of one job of ``experiment``'s paper profile."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            "config", overrides=[f"experiment={experiment}", "profile=paper", *overrides, "paths.output=-"]
        )
    return resolved_config(cfg)


@pytest.mark.parametrize("setting", ["mnist_f1", "cifar10_c1", "cifar10_c2"])
@pytest.mark.parametrize("regime", ["sb", "lb"])
def test_keskar_runs_end_by_their_stopping_rule_alone(setting: str, regime: str) -> None:
    config = paper("keskar_gap", f"setting={setting}", f"regime={regime}")
    assert config["trainer"]["max_epochs"] == config["trainer"]["max_steps"] == -1
    assert config["early_stopping"]["monitor"] == "train/loss" and config["early_stopping"]["target"] is None
    assert config["early_stopping"]["min_delta"] > 0
    validate(config)


def test_a_run_without_a_length_needs_a_rule_that_ends_it_and_a_schedule_that_needs_no_length() -> None:
    config = paper("keskar_gap", "setting=mnist_f1")
    with pytest.raises(ConfigError, match="trainer.max_epochs=-1: .* early_stopping rule with min_delta > 0"):
        validate({**config, "early_stopping": None})
    with pytest.raises(ConfigError, match="trainer.max_epochs=-1"):
        validate({**config, "early_stopping": {**config["early_stopping"], "min_delta": 0.0}})
    cosine = {"interval": "step", "schedule": {"_target_": "optfactors.schedules.cosine", "_partial_": True}}
    with pytest.raises(ConfigError, match="scheduler.schedule._target_='optfactors.schedules.cosine'"):
        validate({**config, "scheduler": cosine})


def test_a_constant_schedule_takes_a_run_without_a_length() -> None:
    task = Classifier(
        nn.Linear(2, 2), nn.CrossEntropyLoss(), partial(torch.optim.SGD, lr=0.1), schedules.constant
    )
    task.trainer = SimpleNamespace(estimated_stepping_batches=math.inf, max_epochs=-1)
    assert task.configure_optimizers()["lr_scheduler"]["scheduler"].get_last_lr() == [0.1]
