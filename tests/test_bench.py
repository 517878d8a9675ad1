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
