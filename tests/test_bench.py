"""The benchmark code runs at tiny sizes and writes its table (timings belong to `make bench`, not here)."""

from __future__ import annotations

import pandas as pd
import pytest

from optfactors.bench.__main__ import main
from optfactors.bench.core import compared, meets


def test_targets_are_bounds_on_the_ratio():
    assert meets(2.9, "<= 3") and not meets(3.1, "<= 3") and meets(0.6, ">= 0.5") and not meets(0.4, ">= 0.5")
    row = compared("x", 32, 6.0, 2.0, "s", "<= 3")
    assert row.ratio == 3.0 and row.met


@pytest.mark.slow  # ~70 s even at tiny sizes: the ε-sharpness of a full-width F1 (1.5 M bounded variables)
def test_tiny_bench_writes_every_measurement(data_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    main(["--tiny", "--results", str(tmp_path)])
    table = pd.read_csv(tmp_path / "bench" / "bench.csv")
    assert list(table.columns) == ["name", "batch_size", "value", "unit", "ratio", "target", "met"]
    assert (table["value"] > 0).all()
    hvp = table[table["name"].str.contains("Hessian-vector")].iloc[0]
    assert hvp["target"] == "<= 3" and hvp["ratio"] > 1
    c1 = table[table["name"].str.startswith("compute: C1") & (table["unit"] == "images/s")]
    assert sorted(c1["name"]) == [
        "compute: C1 training update (channels_last)",
        "compute: C1 training update (default)",
    ]
    memory = table[table["name"].str.startswith("memory:")]
    assert len(memory) == 3 and (memory["target"] == "<= 1").all() and (memory["value"] > 100).all()
    assert "machine:" in capsys.readouterr().out
    assert (tmp_path / "figures" / "bench.png").stat().st_size > 0


def test_sweep_times_sum_a_studys_lines_at_its_latest_commit_and_check_the_budgets(tmp_path):
    """A sweep stopped and resumed at one commit adds up; an older commit's sweep does not count; each study
    against 20 minutes, all of them against 60."""
    from optfactors.bench.end_to_end import sweep_times

    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "sweep_times.csv").write_text(
        "experiment,profile,git_commit,finished_at,wall_time_s,exit_status\n"
        "toy,quick,old,2026-12-01T00:00:00Z,9000,0\n"
        "toy,quick,abc,2026-12-02T00:00:00Z,600,0\n"
        "toy,quick,abc,2026-12-02T01:00:00Z,300,0\n"
        "depth,quick,abc,2026-12-02T02:00:00Z,1500,1\n"
        "depth,paper,abc,2026-12-02T03:00:00Z,99999,0\n"
    )
    depth, toy, total = sweep_times(tmp_path)
    assert (toy.value, toy.ratio, toy.met) == (15.0, 0.75, True)
    assert (depth.value, depth.ratio, depth.met) == (25.0, 1.25, False)
    assert total.value == 40.0 and total.ratio == pytest.approx(40 / 60) and total.met
    assert total.name == "studies: all 2 quick sweeps at abc, ratio to 60 min"
    assert sweep_times(tmp_path / "nowhere") == []
