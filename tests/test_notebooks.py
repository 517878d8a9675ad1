"""Every notebook runs top to bottom, reading the committed results (no cell may raise)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
RESULTS = NOTEBOOKS.parent / "results"
#: The committed tables each notebook reads.
INPUTS = {
    "00_quickstart.ipynb": ["quickstart"],
    "01_batch_size.ipynb": ["batch_timing", "batch_accuracy", "keskar_gap"],
    "02_sharp_flat.ipynb": ["sharp_flat"],
    "03_optimizers.ipynb": ["toy", "optimizers", "loss_mse_vs_ce", "warmup", "normalization", "stuck"],
    "04_critical_points.ipynb": ["critical_points", "saddle_escape", "depth"],
    "05_large_batch.ipynb": ["large_batch_remedies", "critical_batch"],
}


def test_every_notebook_declares_its_inputs() -> None:
    assert sorted(INPUTS) == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_runs_without_errors(path: Path) -> None:
    missing = [e for e in INPUTS[path.name] if not (RESULTS / e / "runs.csv").is_file()]
    if missing:
        pytest.skip(f"no committed results of {', '.join(missing)}: run `make sweep` first")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()  # raises CellExecutionError naming the failing cell
