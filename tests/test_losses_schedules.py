"""Losses, optimizers and schedules: values against hand computations, every config instantiates."""

from __future__ import annotations

import math

import pytest
import torch
from hydra.utils import instantiate

from optfactors import CONF_DIR
from optfactors.losses import SoftmaxMSELoss
from optfactors.stages.train import train


def test_softmax_mse_matches_the_lecture_formula():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    target = torch.tensor([0, 2])
    p = torch.softmax(logits, dim=1)
    expected = (
        (p[0, 0] - 1) ** 2 + p[0, 1] ** 2 + p[0, 2] ** 2 + p[1, 0] ** 2 + p[1, 1] ** 2 + (p[1, 2] - 1) ** 2
    ) / 2
    assert torch.isclose(SoftmaxMSELoss()(logits, target), expected)


def test_softmax_mse_gradient_matches_finite_differences():
    torch.manual_seed(0)
    logits = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
    target = torch.tensor([0, 3, 1, 4])
    loss = SoftmaxMSELoss()
    (grad,) = torch.autograd.grad(loss(logits, target), logits)
    eps = 1e-6
    numeric = torch.zeros_like(logits)
    with torch.no_grad():
        for i in range(logits.numel()):
            step = torch.zeros_like(logits).view(-1)
            step[i] = eps
            step = step.view_as(logits)
            numeric.view(-1)[i] = (loss(logits + step, target) - loss(logits - step, target)) / (2 * eps)
    assert torch.allclose(grad, numeric, atol=1e-8)
    assert torch.autograd.gradcheck(lambda z: loss(z, target), (logits,))


def test_mse_gradient_vanishes_where_cross_entropy_does_not():
    # The lecture's point: with a saturated wrong softmax, MSE's gradient is tiny, cross-entropy's is not.
    logits = torch.tensor([[-10.0, 10.0, -1000.0]], requires_grad=True)
    target = torch.tensor([0])
    (g_mse,) = torch.autograd.grad(SoftmaxMSELoss()(logits, target), logits)
    (g_ce,) = torch.autograd.grad(torch.nn.functional.cross_entropy(logits, target), logits)
    assert g_mse.abs().max() < 1e-7 < 0.9 < g_ce.abs().max()


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


@pytest.mark.parametrize("name", _options("optimizer"))
def test_every_optimizer_config_instantiates_and_steps_downhill(make_cfg, name):
    # A weight matrix (layer-wise optimizers such as LARS adapt only tensors of 2 or more dimensions) and a
    # closure (SAM needs one to recompute the gradient; every torch optimizer accepts it).
    cfg = make_cfg(f"optimizer={name}")
    w = torch.nn.Parameter(torch.tensor([[1.0, -2.0]]))
    optimizer = instantiate(cfg.optimizer)([w])
    assert optimizer.param_groups[0]["lr"] == cfg.optimizer.lr

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = w.pow(2).sum()
        loss.backward()
        return loss

    closure()
    optimizer.step(closure)
    assert w.pow(2).sum() < 5.0


def test_optimizer_configs_have_the_documented_settings(make_cfg):
    assert make_cfg("optimizer=momentum").optimizer.momentum == 0.9
    nesterov = instantiate(make_cfg("optimizer=nesterov").optimizer)([torch.nn.Parameter(torch.zeros(1))])
    assert nesterov.defaults["nesterov"] and nesterov.defaults["momentum"] == 0.9
    assert make_cfg("optimizer=adam").optimizer.betas == [0.9, 0.999]


def _lrs(schedule, steps: int, lr: float = 1.0) -> list[float]:
    w = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([w], lr=lr)
    scheduler = schedule(optimizer, total_steps=steps)
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


@pytest.mark.parametrize("name", _options("scheduler"))
def test_every_scheduler_config_instantiates(make_cfg, name):
    cfg = make_cfg(
        f"scheduler={name}",
        "scheduler.schedule.warmup_steps=10" if "warmup" in name or "inverse" in name else "seed=0",
    )
    assert cfg.scheduler.interval in ("step", "epoch")
    lrs = _lrs(instantiate(cfg.scheduler.schedule), 100, lr=0.5)
    assert len(lrs) == 100 and all(0 <= lr <= 0.5 + 1e-12 for lr in lrs)


def test_warmup_cosine_gives_the_documented_learning_rates(make_cfg):
    cfg = make_cfg("scheduler=warmup_cosine", "scheduler.schedule.warmup_steps=10")
    lrs = _lrs(instantiate(cfg.scheduler.schedule), 110, lr=0.2)
    assert lrs[0] == pytest.approx(0.02) and lrs[4] == pytest.approx(0.1) and lrs[9] == pytest.approx(0.2)
    assert lrs[10] == pytest.approx(0.2)  # the cosine starts at the peak
    assert lrs[60] == pytest.approx(0.1)  # half-way through the decay: half the peak
    assert lrs[109] == pytest.approx(0.2 * 0.5 * (1 + math.cos(math.pi * 99 / 100)))


def test_warmup_constant_warms_up_linearly_then_holds_the_rate(make_cfg):
    cfg = make_cfg("scheduler=warmup_constant", "scheduler.schedule.warmup_steps=4")
    lrs = _lrs(instantiate(cfg.scheduler.schedule), 10, lr=3.2)
    assert lrs == pytest.approx([0.8, 1.6, 2.4, 3.2] + [3.2] * 6)


def test_inverse_sqrt_is_the_transformer_schedule(make_cfg):
    cfg = make_cfg("scheduler=inverse_sqrt", "scheduler.schedule.warmup_steps=4")
    lrs = _lrs(instantiate(cfg.scheduler.schedule), 16, lr=1.0)
    # lr(n) = min(n / w, sqrt(w / n)) at update n = 1, 2, ...
    assert lrs[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert lrs[7] == pytest.approx(math.sqrt(4 / 8)) and lrs[15] == pytest.approx(0.5)
    d_model, w = 512, 4
    vaswani = [d_model**-0.5 * min(n**-0.5, n * w**-1.5) for n in range(1, 17)]
    assert [lr * d_model**-0.5 * w**-0.5 for lr in lrs] == pytest.approx(vaswani)


def test_step_and_exponential_decay(make_cfg):
    step = make_cfg("scheduler=step", "scheduler.schedule.step_size=3", "scheduler.schedule.gamma=0.5")
    assert _lrs(instantiate(step.scheduler.schedule), 7) == pytest.approx([1, 1, 1, 0.5, 0.5, 0.5, 0.25])
    assert step.scheduler.interval == "epoch"
    exp = make_cfg("scheduler=exponential", "scheduler.schedule.gamma=0.9")
    assert _lrs(instantiate(exp.scheduler.schedule), 3) == pytest.approx([1, 0.9, 0.81])


def _epoch_lrs(make_cfg, *scheduler: str) -> list[float]:
    """The ``lr`` column of the curve of 5 epochs (one update each, lr 0.8) under the scheduler overrides:
    the rate at each epoch's end, after that epoch's schedule step, i.e. the next epoch's rate."""
    run = ("data.subset=64", "data.batch_size=64", "data.val_size=0", "trainer.max_epochs=5")
    cfg = make_cfg(*run, "optimizer.lr=0.8", "trainer.limit_test_batches=1", *scheduler)
    record = train(cfg)
    assert record["status"] == "ok", record["error"]
    return [row["lr"] for row in record["curve"]]


def test_a_torch_scheduler_class_works_from_yaml_and_own_schedules_still_get_total_steps(make_cfg, tmp_path):
    """A new schedule needs only a YAML file, here in a config folder of its own on Hydra's search path."""
    (tmp_path / "scheduler").mkdir()
    (tmp_path / "scheduler" / "step_lr.yaml").write_text(
        "interval: epoch\n"
        "schedule: {_target_: torch.optim.lr_scheduler.StepLR, _partial_: true, step_size: 2, gamma: 0.5}\n"
    )
    lrs = _epoch_lrs(make_cfg, f"hydra.searchpath=[file://{tmp_path}]", "scheduler=step_lr")
    assert lrs == pytest.approx([0.8, 0.4, 0.4, 0.2, 0.2])  # epoch k = 1..5 (from 0): 0.8 * 0.5 ** (k // 2)
    # optfactors.schedules.cosine over total_steps = 5 epochs: 0.8 * (1 + cos(pi k / 5)) / 2 in epoch k
    lrs = _epoch_lrs(make_cfg, "scheduler=cosine", "scheduler.interval=epoch")
    assert lrs == pytest.approx([0.8 * 0.9045085, 0.8 * 0.6545085, 0.8 * 0.3454915, 0.8 * 0.0954915, 0.0])
