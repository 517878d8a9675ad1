"""Every notebook runs top to bottom, reading the committed results (no cell may raise)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
INPUT = NOTEBOOKS.parent / "results" / "default" / "runs.csv"


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_runs_without_errors(path: Path) -> None:
    if not INPUT.is_file():
        pytest.skip(
            f"{INPUT.relative_to(NOTEBOOKS.parent)} is absent: the notebooks read the committed "
            "results; run `make sweep` first"
        )
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()  # raises CellExecutionError naming the failing cell
