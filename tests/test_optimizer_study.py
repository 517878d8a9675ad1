"""Miniatures of the optimizer and loss studies: their tables, figures and claims come out of real runs."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import pandas as pd
import pytest
import torch
from hydra.utils import instantiate

from optfactors.report.claims import CLAIMS
from optfactors.report.collect import collect
from optfactors.report.figures import FIGURES, draw_all
from optfactors.report.tables import write_tables
from optfactors.stages.train import train

TINY = (
    "sizes.mnist.subset=300",
    "sizes.mnist.val_size=100",
    "sizes.mnist.max_epochs=2",
    "trainer.limit_test_batches=1",
)


def _run_all(make_cfg, experiment: str, common: tuple[str, ...], runs: list[tuple[str, ...]]) -> Path:
    for overrides in runs:
        record = train(make_cfg(f"experiment={experiment}", *common, *overrides))
        assert record["status"] in ("ok", "diverged"), record["error"]
    return Path(make_cfg().paths.results)


def _check_outputs(results: Path, experiment: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    runs, curves = collect(results, experiment)
    written = {p.name for p in draw_all(results) + write_tables(results)}
    for name, spec in FIGURES.items():
        if spec.experiment == experiment:
            assert {f"{name}.png", f"{name}.pdf"} <= written
    for claim in CLAIMS.values():
        if claim.experiment == experiment:
            result = claim.fn(runs, curves)
            assert_decided_or_explained(result, claim.claim_id)
    return runs, curves


def test_optimizers_miniature(make_cfg):
    runs = [
        ("setting=mnist_mlp", f"optimizer={o}", f"scheduler={s}", f"optimizer.lr={lr}")
        for o in ("sgd", "momentum", "adam")
        for s in ("constant", "cosine")
        for lr in (0.01, 0.1)
    ]
    results = _run_all(make_cfg, "optimizers", TINY, runs)
    table, _ = _check_outputs(results, "optimizers")
    assert len(table) == 12
    best = pd.read_csv(results / "optimizers" / "best.csv")
    assert len(best) == 3 * 2 and set(best["best lr"]) <= {0.01, 0.1}


def test_loss_miniature(make_cfg):
    tiny = ("sizes.subset=300", "sizes.val_size=100", "sizes.max_epochs=2", "trainer.limit_test_batches=1")
    runs = [(f"loss={loss}", f"optimizer={o}") for loss in ("cross_entropy", "mse") for o in ("sgd", "adam")]
    results = _run_all(make_cfg, "loss_mse_vs_ce", tiny, runs)
    table, curves = _check_outputs(results, "loss_mse_vs_ce")
    assert set(table["loss"]) == {"cross_entropy", "mse"} and len(curves) == 4 * 2


SMALL = ("sizes.subset=300", "sizes.val_size=100", "sizes.max_epochs=2", "sizes.test_batches=1")


def test_warmup_miniature(make_cfg):
    warm = ("scheduler.schedule.warmup_steps=3",)  # the miniature makes 6 updates
    runs = [
        (f"scheduler={s}", f"optimizer.lr={lr}", *(warm if s != "cosine" else ()))
        for s in ("cosine", "warmup_cosine", "inverse_sqrt")
        for lr in (0.001, 0.03)
    ]
    results = _run_all(make_cfg, "warmup", SMALL, runs)
    table, _ = _check_outputs(results, "warmup")
    assert set(table["schedule"]) == {"cosine", "warmup_cosine", "inverse_sqrt"}


def test_normalization_miniature_records_divergence(make_cfg):
    runs = [
        (f"model={m}", f"optimizer.lr={lr}", f"trainer.gradient_clip_val={clip}")
        for m in ("keskar_f1", "mlp_deep")
        for lr in (0.1, 30.0)
        for clip in ("null", 1.0)
    ]
    results = _run_all(make_cfg, "normalization", SMALL, runs)
    table, _ = _check_outputs(results, "normalization")
    unclipped = table[(table["model"] == "mlp") & table["trainer.gradient_clip_val"].isna()]
    assert unclipped.set_index("optimizer.lr").loc[30.0, "status"] == "diverged"


def test_stuck_miniature_tracks_the_gradient_norm_before_clipping(make_cfg):
    tiny = ("sizes.subset=200", "sizes.updates=6")
    results = _run_all(make_cfg, "stuck", tiny, [("seed=0",), ("seed=1",)])
    table, curves = _check_outputs(results, "stuck")
    # One full-batch update per epoch: epoch 0's gradient norm is that of the initial model on all 200 images,
    # before clipping (computed here by hand from the same seed).
    cfg = make_cfg("experiment=stuck", *tiny, "seed=0")
    pl.seed_everything(0, verbose=False)
    data = instantiate(cfg.data, seed=0, _convert_="all")
    model = instantiate(cfg.model)
    data.setup()
    x, y = next(iter(data.train_dataloader()))
    torch.nn.functional.cross_entropy(model(x), y).backward()
    expected = torch.nn.utils.get_total_norm([p.grad for p in model.parameters()]).item()
    first = curves.merge(table[table["seed"] == 0][["run_key"]]).sort_values("epoch").iloc[0]
    assert first["train_grad_norm"] == pytest.approx(expected, rel=1e-5)


def assert_decided_or_explained(result, claim_id: str) -> None:
    """A miniature's claim (one or two seeds) is decided, or — with its effects' reasons (e.g. one seed)."""
    reasons = [e.decision.reason for e in result.effects if e.decision.verdict is None]
    assert result.measured and (result.reproduced is not None or reasons or result.detail), (claim_id, result)
