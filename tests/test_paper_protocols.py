"""The paper profiles are the papers' protocols: what each composes to (no training), docs/paper_protocols.md
is current with the configs, its GPU-time estimates count FLOPs right, and the mechanics a protocol needs
(runs that only their stopping rule ends) work."""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import nn

from optfactors import CONF_DIR, schedules
from optfactors.gpu_estimate import Assumptions, Cost, makespan, network_flops
from optfactors.protocols import ProtocolError, load_spec, render, status
from optfactors.run.config import ConfigError, train_size, validate
from optfactors.run.record import resolved_config
from optfactors.task import Classifier

DOCS = Path(__file__).resolve().parents[1] / "docs"


def paper_cfg(experiment: str, *overrides: str) -> DictConfig:
    """The composed (unresolved) config of one job of ``experiment``'s paper profile."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(
            "config", overrides=[f"experiment={experiment}", "profile=paper", *overrides, "paths.output=-"]
        )


def paper(experiment: str, *overrides: str) -> dict[str, Any]:
    """The resolved config of one job of ``experiment``'s paper profile."""
    return resolved_config(paper_cfg(experiment, *overrides))


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


@pytest.mark.parametrize("depth", [20, 56])
@pytest.mark.parametrize("residual", [False, True])
def test_depth_is_he_et_als_cifar_protocol(depth: int, residual: bool) -> None:
    config = paper("depth", f"model.depth={depth}", f"model.residual={residual}")
    assert train_size(config["data"]) == 50_000 and config["data"]["augment"]
    assert config["data"]["batch_size"] == 128 and config["model"]["width"] == 16
    assert config["trainer"]["max_steps"] == 64_000 and config["trainer"]["max_epochs"] == -1
    assert config["scheduler"] == {
        "interval": "step",
        "schedule": {
            "_target_": "torch.optim.lr_scheduler.MultiStepLR",
            "_partial_": True,
            "milestones": [32_000, 48_000],
            "gamma": 0.1,
        },
    }
    assert config["model"]["init"]["_target_"] == "torch.nn.init.kaiming_normal_"
    validate(config)


def test_depths_paper_schedule_and_init_build() -> None:
    cfg = paper_cfg("depth")
    model = instantiate(cfg.model)
    widest = [m.weight for m in model.modules() if isinstance(m, nn.Conv2d)][-1]  # 64 x 64 x 3 x 3
    assert widest.std().item() == pytest.approx(math.sqrt(2 / (64 * 9)), rel=0.03)  # He-normal, fan in
    schedule = instantiate(cfg.scheduler.schedule)(torch.optim.SGD(model.parameters(), lr=cfg.optimizer.lr))
    assert isinstance(schedule, torch.optim.lr_scheduler.MultiStepLR)
    assert dict(schedule.milestones) == {32_000: 1, 48_000: 1} and schedule.gamma == 0.1


@pytest.mark.parametrize(("setting", "images"), [("mnist_f1", 60_000), ("cifar10_c2", 50_000)])
def test_sharp_flat_measures_keskars_sharpness_on_the_whole_training_set(setting: str, images: int) -> None:
    analysis = paper("sharp_flat", f"setting={setting}")["sharp_flat"]
    assert analysis["samples"]["train"] == images and analysis["samples"]["test"] == 10_000
    assert analysis["sharpness"]["epsilons"] == [1e-3, 5e-4] and analysis["sharpness"]["subspace_dim"] == 100
    assert analysis["interpolation"]["alphas"] == [-1.0, 2.0, 25]  # plot_parametric_plot.py's grid


def test_the_protocol_page_is_what_the_paper_profiles_compose_to() -> None:
    page = (DOCS / "paper_protocols.md").read_text()
    assert render(load_spec(DOCS / "paper_protocols.yaml"), page) == page, (
        "run python -m optfactors.protocols"
    )


def test_the_page_has_a_table_for_every_study_with_a_published_protocol() -> None:
    studies = load_spec(DOCS / "paper_protocols.yaml")["studies"]
    assert set(studies) == {"keskar_gap", "sharp_flat", "depth", "large_batch_remedies", "critical_batch"}
    assert {name for name, study in studies.items() if study.get("pending")} == {
        "large_batch_remedies",
        "critical_batch",
    }


def test_a_value_that_differs_needs_a_reason_and_a_reason_needs_a_difference() -> None:
    row = {"what": "learning rate", "paper": 0.1, "source": "Section 4.2"}
    assert status(row, 0.1, None) == "match"
    assert status({**row, "deviation": "why"}, 0.2, None) == "deviation: why"
    assert status({**row, "deviation": "why"}, 0.1, "issue 37") == "pending: issue 37"
    with pytest.raises(ProtocolError, match="state the deviation"):
        status(row, 0.2, None)
    with pytest.raises(ProtocolError, match="stale deviation"):
        status({**row, "deviation": "why"}, 0.1, None)
    with pytest.raises(ProtocolError, match="needs a note"):
        status({"what": "patience", "source": "Section 2.2"}, 5, None)


def test_c2s_flops_are_its_layers_multiply_adds_by_hand() -> None:
    config = paper("keskar_gap", "setting=cifar10_c2")
    widths = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    sides = [32, 32, 16, 16, 8, 8, 8, 4, 4, 4, 2, 2, 2]  # each convolution's output is side x side
    convs = sum(
        9 * c_in * c_out * side**2 for c_in, c_out, side in zip([3, *widths], widths, sides, strict=False)
    )
    forward, step = network_flops(config)
    assert forward == 2 * (convs + 512 * 512 + 512 * 10) == 626_927_616
    assert step == pytest.approx(3 * forward, rel=0.01)  # the backward pass costs about two forward passes


def test_an_estimate_turns_flops_into_hours_and_runs_onto_gpus() -> None:
    assume = Assumptions("a GPU", 10.0, 0.5, 1.0, 200, 2.0)
    assert Cost(5e12 * 3600, 3.6e6).hours(assume) == pytest.approx(
        2.0
    )  # an hour of FLOPs, an hour of batches
    assert makespan([3, 3, 2, 2, 2], gpus=2) == 7 and makespan([1, 1], gpus=8) == 1
