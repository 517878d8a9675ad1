"""Budget studies: their tables read together with the study they extend, a ✗ claim with a budget trend
reads "✗ at this budget; trend toward ✓" (or "not toward") in REPORT.md only beside a decided trend, and a
miniature of each budget study gives its trend table, figure and decided claims."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from optfactors.manifest import study
from optfactors.report.claims import CLAIMS
from optfactors.report.collect import collect
from optfactors.report.figures import draw_all
from optfactors.report.load import study_tables
from optfactors.report.markdown import experiment_section
from optfactors.report.tables import write_tables
from optfactors.stages.train import train

EPOCHS = "trainer.max_epochs"


def residual_runs(excess: dict[int, float], experiment: str) -> pd.DataFrame:
    """Residual networks of depth 20 (loss 0.5) and 56 (0.5 + excess) per budget, plain-56 at 2.0: two
    seeds each, 0.01 either side."""
    rows = [
        {EPOCHS: epochs, "model.depth": depth, "model.residual": True, "train_eval_loss": loss + jitter}
        for epochs, x in excess.items()
        for depth, loss in ((20, 0.5), (56, 0.5 + x))
        for jitter in (-0.01, 0.01)
    ]
    rows += [
        {EPOCHS: min(excess), "model.depth": 56, "model.residual": False, "train_eval_loss": 2.0 + jitter}
        for jitter in (-0.01, 0.01)
    ]
    return pd.DataFrame(
        [
            {"run_key": f"{experiment}{i}", "experiment": experiment, "status": "ok", **r}
            for i, r in enumerate(rows)
        ]
    )


def write(results: Path, experiment: str, runs: pd.DataFrame) -> None:
    (results / experiment).mkdir(parents=True)
    runs.to_csv(results / experiment / "runs.csv", index=False)
    pd.DataFrame({"run_key": runs["run_key"], "epoch": 0, "train_loss": 1.0}).to_csv(
        results / experiment / "curves.csv", index=False
    )


def test_a_budget_study_reads_the_study_it_extends(tmp_path: Path) -> None:
    assert study("depth_budget").extends == "depth"
    write(tmp_path, "depth", residual_runs({12: 0.4}, "depth"))
    write(tmp_path, "depth_budget", residual_runs({24: 0.2, 48: 0.1}, "depth_budget"))
    runs, curves = study_tables(tmp_path, "depth_budget")
    assert sorted(runs[EPOCHS].unique()) == [12, 24, 48]
    assert set(runs["experiment"]) == {"depth", "depth_budget"} and len(curves) == len(runs)
    own, _ = study_tables(tmp_path, "depth")  # the extended study reads only its own runs
    assert set(own["experiment"]) == {"depth"}
    assert study_tables(tmp_path, "optimizers_budget") is None


@pytest.mark.parametrize(
    ("longer", "verdict"),
    [
        (
            {24: 0.2, 48: 0.1},
            "| ✗ at this budget; trend toward ✓ (`residual_depth_gap_shrinks_with_budget`) |",
        ),
        (
            {24: 0.5, 48: 0.6},
            "| ✗ at this budget; trend not toward ✓ (`residual_depth_gap_shrinks_with_budget`) |",
        ),
        (None, "| ✗ | ResNet-20 0.5 ± 0.0141; ResNet-56 0.9 ± 0.0141; plain-56 2 ± 0.0141 |"),
    ],
)
def test_a_failed_claim_shows_its_budget_trend(
    tmp_path: Path, longer: dict[int, float] | None, verdict: str
) -> None:
    write(tmp_path, "depth", residual_runs({12: 0.4}, "depth"))
    if longer:
        write(tmp_path, "depth_budget", residual_runs(longer, "depth_budget"))
    section = "\n".join(experiment_section(tmp_path, "depth"))
    row = next(line for line in section.splitlines() if "`depth_residual_deeper_trains_as_well`" in line)
    assert verdict in row
    if longer:
        budget = "\n".join(experiment_section(tmp_path, "depth_budget"))
        assert "10 runs (10 ok" in budget  # its own runs counted, the depth study's read
        assert "read these runs together with `depth`'s" in budget


def _trend_decided(results: Path, experiment: str, table: str) -> pd.DataFrame:
    """Collect a miniature budget study, draw its figure and write its trend table; every claim computes its
    effects, undecided only for want of a second seed (the miniature trains one per setting)."""
    collect(results, experiment)
    assert f"{experiment}.png" in {p.name for p in draw_all(results)}
    for claim in (c for c in CLAIMS.values() if c.experiment == experiment):
        result = claim.fn(*study_tables(results, experiment))
        assert result.effects, (claim.claim_id, result.measured)
        for effect in result.effects:
            assert effect.decision.verdict is not None or "one seed" in effect.decision.reason, effect.cell()
    write_tables(results)
    return pd.read_csv(results / experiment / f"{table}.csv")


def test_depth_budget_miniature(make_cfg):
    tiny = ("sizes.subset=200", "sizes.val_size=100", "sizes.width=4", "sizes.test_batches=1")
    for epochs in (1, 2):
        for depth in (20, 56):
            record = train(
                make_cfg(
                    "experiment=depth_budget", f"model.depth={depth}", f"trainer.max_epochs={epochs}", *tiny
                )
            )
            assert record["status"] == "ok", record["error"]
    table = _trend_decided(Path(make_cfg().paths.results), "depth_budget", "residual_trend")
    assert table["epochs"].tolist() == [1, 2] and table["seeds"].tolist() == [1, 1]


def test_optimizers_budget_miniature(make_cfg):
    tiny = (
        "sizes.subset=100",
        "sizes.val_size=50",
        "sizes.batch_size=50",
        "sizes.test_batches=1",
        "setting=cifar10_c1",
        "optimizer.lr=0.01",
    )
    constant = ("sgd_constant", "adagrad_constant", "rmsprop_constant", "adam_constant")
    runs = [(m, e) for m in (*constant, "momentum_cosine", "adam_cosine") for e in (1, 2)]
    for method, epochs in runs:
        record = train(
            make_cfg("experiment=optimizers_budget", f"+method={method}", f"sizes.max_epochs={epochs}", *tiny)
        )
        assert record["status"] == "ok", record["error"]
    table = _trend_decided(Path(make_cfg().paths.results), "optimizers_budget", "adaptive_trend")
    assert table["epoch"].tolist() == [1, 2] and {"SGD", "Adagrad", "RMSProp", "Adam", "worst margin"} <= set(
        table
    )
    momentum = pd.read_csv(Path(make_cfg().paths.results) / "optimizers_budget" / "momentum_trend.csv")
    assert momentum["epochs"].tolist() == [1, 2]
