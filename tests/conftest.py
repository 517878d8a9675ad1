"""Shared fixtures: the real data folder and configs composed from conf/ exactly as the CLI does."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from optfactors import CONF_DIR

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """DATA_DIR holding mnist.npz and cifar10.npz; tests never download."""
    path = Path(os.environ.get("DATA_DIR", ROOT.parent / "shared" / "data"))
    if not (path / "mnist.npz").exists():
        pytest.skip(f"real data not found in {path}: set DATA_DIR to the folder with mnist.npz")
    return path


@pytest.fixture
def make_cfg(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., DictConfig]:
    """Compose conf/config.yaml with overrides; outputs and results go to tmp_path, logging to CSV only."""
    monkeypatch.setenv("DATA_DIR", str(data_dir))

    def make(*overrides: str) -> DictConfig:
        base = [
            f"paths.output={tmp_path / 'out'}",
            f"paths.results={tmp_path / 'results'}",
            "logger=csv",
            "trainer.enable_progress_bar=false",
        ]
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose("config", overrides=[*base, *overrides])

    return make


def _run_cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "optfactors"
    env = {**os.environ, "OPTFACTORS_PROGRESS_BAR": "false"}
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd
    )


@pytest.fixture
def cli(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., subprocess.CompletedProcess]:
    """Run this environment's ``optfactors`` console script (no progress bars), capturing its output."""
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    return _run_cli


class ParameterVector(torch.nn.Module):
    """A "model" whose output is its own parameter vector: the loss is then any function of the parameters."""

    def __init__(self, theta: torch.Tensor) -> None:
        super().__init__()
        self.theta = torch.nn.Parameter(theta.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.theta


@pytest.fixture
def parameter_vector() -> type[ParameterVector]:
    """The ParameterVector class, for tests of analysis functions on hand-made losses."""
    return ParameterVector
