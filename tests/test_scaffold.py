"""``optfactors new-study``: a scaffolded study is complete on its own (its test passes in a scratch copy of
the repository, its miniature trained through sweep -> collect -> figures -> report); names are checked."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from optfactors.scaffold import files, new_study

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A copy of the repository's code and configs (links kept: src/optfactors/conf -> conf/)."""
    for folder in ("src", "conf", "experiments"):
        shutil.copytree(
            ROOT / folder, tmp_path / folder, symlinks=True, ignore=shutil.ignore_patterns("__pycache__")
        )
    (tmp_path / "tests").mkdir()
    return tmp_path


def test_a_scaffolded_study_passes_its_own_test_in_a_scratch_copy(scratch: Path, data_dir: Path):
    env = {**os.environ, "PYTHONPATH": str(scratch / "src"), "DATA_DIR": str(data_dir)}
    made = subprocess.run(
        [sys.executable, "-m", "optfactors", "new-study", "label_noise", "--root", str(scratch)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert sorted(made.stdout.split("\n")[:7]) == sorted(f"wrote {scratch / p}" for p in files("label_noise"))
    lint = subprocess.run(
        [
            Path(sys.executable).parent / "ruff",
            "check",
            "--config",
            str(ROOT / "pyproject.toml"),
            *(path for path in files("label_noise") if path.endswith(".py")),
        ],
        cwd=scratch,
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout
    test = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_study_label_noise.py"],
        cwd=scratch,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert test.returncode == 0, test.stdout[-3000:] + test.stderr[-2000:]
    assert "5 passed" in test.stdout, test.stdout[-3000:]


@pytest.mark.parametrize(
    ("name", "message"),
    [("Label-Noise", "lower case letters"), ("keskar_gap", "a study of that name exists")],
)
def test_a_bad_or_taken_name_is_refused(scratch: Path, name: str, message: str):
    with pytest.raises(ValueError, match=message):
        new_study(name, scratch)
    assert not (scratch / "tests" / f"test_study_{name}.py").exists()
