"""Runs of uncommitted code stay out of the committed results; records name the code's commit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from optfactors.device import device_name, names_a_gpu
from optfactors.run import provenance


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch) -> Path:
    """A stand-in checkout at ``tmp_path`` whose code has uncommitted changes."""
    monkeypatch.setattr(provenance, "code_state", lambda: (tmp_path, "0123abcd", True))
    monkeypatch.delenv(provenance.ALLOW_DIRTY, raising=False)
    return tmp_path


@pytest.mark.parametrize("inside", ["results", "results/paper", "results/../results/toy"])
def test_dirty_code_may_not_write_into_committed_results(checkout: Path, inside: str) -> None:
    with pytest.raises(provenance.DirtyTreeError, match=r"refusing to write into .*uncommitted changes"):
        provenance.check_results_dir(checkout / inside)


@pytest.mark.parametrize("elsewhere", ["scratch/x", "results_old", "."])
def test_dirty_code_may_write_elsewhere(checkout: Path, elsewhere: str) -> None:
    provenance.check_results_dir(checkout / elsewhere)


def test_allow_dirty_lets_it_through(checkout: Path, monkeypatch) -> None:
    monkeypatch.setenv(provenance.ALLOW_DIRTY, "1")
    provenance.check_results_dir(checkout / "results")


def test_clean_code_writes_anywhere(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(provenance, "code_state", lambda: (tmp_path, "0123abcd", False))
    provenance.check_results_dir(tmp_path / "results")
    assert provenance.git_commit() == "0123abcd"


def test_commit_says_dirty(checkout: Path) -> None:
    assert provenance.git_commit() == "0123abcd-dirty"


def test_this_checkout_state_is_read_once() -> None:
    state = provenance.code_state()
    assert state is None or (len(state[1]) == 40 and (state[0] / "pyproject.toml").is_file())
    assert provenance.code_state() is state  # cached: the state at the process's first call


@pytest.mark.parametrize("multirun", [False, True])
def test_the_command_refuses_dirty_code_into_committed_results_in_one_line(
    tmp_path: Path, multirun: bool
) -> None:
    """The entry point checks before any work; a sweep stops at its first job."""
    script = (
        "import sys\nfrom pathlib import Path\nfrom optfactors.run import provenance\n"
        f"provenance.code_state = lambda: (Path({str(tmp_path)!r}), '0123abcd', True)\n"
        "from optfactors.cli import main\nmain()\n"
    )
    args = ["-m"] if multirun else []
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            *args,
            "experiment=toy",
            f"paths.results={tmp_path / 'results'}",
            f"hydra.sweep.dir={tmp_path / 'multirun'}",
            f"hydra.run.dir={tmp_path / 'run'}",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "ALLOW_DIRTY": "0"},
    )
    assert out.returncode == 2, out.stderr
    refusals = [line for line in out.stderr.splitlines() if "refusing" in line]
    assert len(refusals) == 1 and refusals[0].startswith("optfactors: refusing to write into")
    assert not (tmp_path / "results" / "toy").exists()


def test_a_changed_config_makes_the_checkout_dirty_a_changed_result_does_not(tmp_path: Path) -> None:
    """Configs choose what a run does as much as the package does: an edit under conf/ (outside the
    package folder the state is read from) is dirty; an edit under results/ is an output, not code."""
    for folder in ("src/pkg", "conf", "results"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "f.txt").write_text("a\n")

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    package = tmp_path / "src" / "pkg"
    assert provenance.checkout_state(package)[2] is False
    (tmp_path / "results" / "f.txt").write_text("b\n")
    assert provenance.checkout_state(package)[2] is False
    (tmp_path / "conf" / "f.txt").write_text("b\n")
    root, commit, dirty = provenance.checkout_state(package)
    assert dirty is True and root == tmp_path.resolve() and len(commit) == 40


def test_outside_a_checkout_there_is_no_state(tmp_path: Path) -> None:
    assert provenance.checkout_state(tmp_path) is None


def test_a_cpu_device_names_its_kernel_instruction_set_and_threads() -> None:
    """What decides whether two CPUs give bit-identical metrics is in the record's ``device``."""
    name = device_name(torch.device("cpu"))
    assert f", {torch.backends.cpu.get_cpu_capability()} (" in name
    assert name.endswith(f"({torch.get_num_threads()} threads)") and not names_a_gpu(name)
