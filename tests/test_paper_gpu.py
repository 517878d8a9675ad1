"""The paper profiles on GPUs, checked on the CPU with CUDA mocked: each layout of docs/paper_protocols.md
("Running on GPUs") composes, validates, passes the launch checks, and builds the Trainer it asks for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import lightning.fabric.accelerators.cuda as fabric_cuda
import lightning.pytorch.accelerators.cuda as pytorch_cuda
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from lightning.pytorch.accelerators import CUDAAccelerator
from omegaconf import DictConfig

from optfactors import CONF_DIR
from optfactors.run.config import ConfigError, validate
from optfactors.run.launch import check_launch, share_job_resources
from optfactors.run.record import resolved_config

GPUS = 8
#: Per layout: its overrides, then what a run gets: trainer.devices once launched, strategy, processes.
LAYOUTS = {
    "1 GPU": ([], 1, "SingleDeviceStrategy", 1),
    "8 GPUs, one run each": (
        ["hydra/launcher=joblib", "hydra.launcher.n_jobs=8"],
        [3],
        "SingleDeviceStrategy",
        1,
    ),
    "8 GPUs, DDP under SLURM": (
        [
            "trainer=ddp",
            "trainer.devices=8",
            "+trainer.sync_batchnorm=true",
            "hydra/launcher=slurm",
            "hydra.launcher.gpus_per_node=8",
            "hydra.launcher.tasks_per_node=8",
        ],
        8,
        "DDPStrategy",
        8,
    ),
}
JOBS = [
    ("keskar_gap", "setting=mnist_f1", "regime=sb"),
    ("keskar_gap", "setting=mnist_f1", "regime=lb"),
    ("keskar_gap", "setting=cifar10_c2", "regime=lb"),
    ("depth", "model.depth=56", "model.residual=false"),
]


@pytest.fixture
def eight_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine with 8 CUDA devices, as Lightning and torch see it."""
    for module in (fabric_cuda, pytorch_cuda):
        monkeypatch.setattr(module, "num_cuda_devices", lambda: GPUS)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: GPUS)


@pytest.fixture
def sweep_job() -> Iterator[None]:
    """Hydra's runtime config for the test to set, as in a sweep's job; unset after, torch threads kept."""
    threads = torch.get_num_threads()
    yield
    HydraConfig.instance().cfg = None
    torch.set_num_threads(threads)


def composed(study: str, overrides: list[str], output: Path, hydra: bool) -> DictConfig:
    """Job 3 of ``study``'s paper sweep on GPUs (with ``hydra``, Hydra's runtime config too)."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(
            "config",
            overrides=[
                f"experiment={study}",
                "profile=paper",
                "trainer.accelerator=gpu",
                f"paths.output={output}",
                *overrides,
                *(["hydra.mode=MULTIRUN", "hydra.job.num=3"] if hydra else []),
            ],
            return_hydra_config=hydra,
        )


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(("study", "first", "second"), JOBS)
@pytest.mark.usefixtures("eight_gpus", "sweep_job")
def test_a_paper_run_builds_its_gpu_trainer(
    layout: str, study: str, first: str, second: str, tmp_path
) -> None:
    overrides, devices, strategy, processes = LAYOUTS[layout]
    validate(resolved_config(composed(study, [first, second, *overrides], tmp_path, hydra=False)))
    cfg = composed(study, [first, second, *overrides], tmp_path, hydra=True)
    HydraConfig.instance().set_config(cfg)
    check_launch(cfg)
    share_job_resources(cfg)
    assert cfg.trainer.devices == devices  # under joblib, job 3 of the sweep trains on GPU 3
    trainer = instantiate(cfg.trainer, logger=False, enable_checkpointing=False, default_root_dir=tmp_path)
    assert isinstance(trainer.accelerator, CUDAAccelerator) and trainer.precision == "32-true"
    assert type(trainer.strategy).__name__ == strategy and trainer.world_size == processes


@pytest.mark.usefixtures("eight_gpus", "sweep_job")
def test_ddp_in_a_sweep_on_one_machine_is_refused(tmp_path) -> None:
    cfg = composed("depth", ["trainer=ddp", "trainer.devices=8"], tmp_path, hydra=True)
    HydraConfig.instance().set_config(cfg)
    with pytest.raises(ConfigError, match="multi-process DDP runs one run at a time"):
        check_launch(cfg)
