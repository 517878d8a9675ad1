"""SAM against hand computations: two steps on a quadratic, and two updates of a Lightning run."""

from __future__ import annotations

import functools
import math

import torch
from hydra.utils import instantiate

from optfactors.optim import SAM
from optfactors.run.checkpoint_io import LAST, load_checkpoint
from optfactors.run.naming import optimizer_name
from optfactors.run.record import checkpoint_dir
from optfactors.stages.train import train

# L(w) = 1/2 w^T A w with w = (a, b) held in two parameter tensors, so the ascent step must use the norm of
# the whole gradient (not one norm per tensor): at w0 = (3, 2) the gradient A w0 = (3, 4) has norm 5.
A = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)


def _quadratic(**sgd: float) -> tuple[torch.nn.Parameter, torch.nn.Parameter, SAM, object]:
    a = torch.nn.Parameter(torch.tensor([3.0], dtype=torch.float64))
    b = torch.nn.Parameter(torch.tensor([2.0], dtype=torch.float64))
    opt = SAM([a, b], functools.partial(torch.optim.SGD), rho=0.5, **sgd)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        w = torch.cat([a, b])
        loss = 0.5 * w @ A @ w
        loss.backward()
        return loss

    return a, b, opt, closure


def test_two_sam_sgd_steps_on_a_quadratic_equal_the_hand_computation():
    a, b, opt, closure = _quadratic(lr=0.1)
    # Step 1: g = (3, 4), |g| = 5, e = 0.5 (3, 4) / 5 = (0.3, 0.4); gradient at (3.3, 2.4) is (3.3, 4.8);
    # w1 = (3, 2) - 0.1 (3.3, 4.8) = (2.67, 1.52). The step returns the loss at w0: (9 + 2 * 4) / 2.
    assert opt.step(closure).item() == 8.5
    assert math.isclose(a.item(), 2.67) and math.isclose(b.item(), 1.52)
    # Step 2: g = (2.67, 2 * 1.52) = (2.67, 3.04); ascent to w1 + 0.5 g / |g|; gradient there; SGD step.
    norm = math.sqrt(2.67**2 + 3.04**2)
    a_up, b_up = 2.67 + 0.5 * 2.67 / norm, 1.52 + 0.5 * 3.04 / norm
    loss = opt.step(closure)
    assert math.isclose(loss.item(), 0.5 * (2.67**2 + 2 * 1.52**2))
    assert math.isclose(a.item(), 2.67 - 0.1 * a_up) and math.isclose(b.item(), 1.52 - 0.1 * 2 * b_up)


def test_momentum_and_a_changed_learning_rate_reach_the_base_optimizer_and_its_state_dict():
    a, b, opt, closure = _quadratic(lr=0.1, momentum=0.9)
    opt.step(closure)  # momentum buffer = first perturbed gradient (3.3, 4.8); w1 = (2.67, 1.52) as above
    opt.param_groups[0]["lr"] = 0.05  # what a schedule does
    norm = math.sqrt(2.67**2 + 3.04**2)
    grad = (2.67 + 0.5 * 2.67 / norm, 2 * (1.52 + 0.5 * 3.04 / norm))
    buffer = (0.9 * 3.3 + grad[0], 0.9 * 4.8 + grad[1])
    opt.step(closure)
    assert math.isclose(a.item(), 2.67 - 0.05 * buffer[0]) and math.isclose(b.item(), 1.52 - 0.05 * buffer[1])
    again = SAM([a, b], functools.partial(torch.optim.SGD), rho=0.5, lr=0.1, momentum=0.9)
    again.load_state_dict(opt.state_dict())
    assert again.param_groups[0]["lr"] == 0.05 and again.param_groups is again.base.param_groups
    assert math.isclose(again.base.state[b]["momentum_buffer"].item(), buffer[1])


def test_optimizer_sam_trains_under_lightning_exactly_as_the_sam_update_written_out(make_cfg):
    """`optimizer=sam` through the real training stage: two updates of batch 100 on 200 MNIST images, the
    weights then equal two SAM steps (ascent, gradient there, SGD step) computed here with autograd."""
    cfg = make_cfg(
        "optimizer=sam",
        "model.hidden=[16]",
        "data.subset=200",
        "data.val_size=0",
        "data.batch_size=100",
        "data.eval_batch_size=100",
        "data.eval_train=false",
        "trainer.max_epochs=1",
        "trainer.limit_test_batches=1",
        "checkpoint.keep=true",
    )
    assert cfg.optimizer.lr == 0.1 and cfg.optimizer.rho == 0.05 and optimizer_name(cfg.optimizer) == "sam"
    record = train(cfg)
    assert record["status"] == "ok" and record["updates"] == 2
    ckpt = load_checkpoint(checkpoint_dir(cfg.paths.results, cfg.experiment_name, record["run_key"]) / LAST)
    trained = {k.removeprefix("model."): v for k, v in ckpt["state_dict"].items()}

    torch.manual_seed(cfg.seed)  # the training stage seeds, then builds the model first
    model = instantiate(cfg.model)
    data = instantiate(cfg.data, seed=cfg.seed, _convert_="all")
    data.setup()
    params = list(model.parameters())

    def gradient(x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
        return list(torch.autograd.grad(torch.nn.functional.cross_entropy(model(x), y), params))

    for x, y in data.train_dataloader():  # epoch 0's two batches, in the order the run saw them
        grads = gradient(x, y)
        scale = 0.05 / torch.sqrt(sum((g**2).sum() for g in grads))
        with torch.no_grad():
            start = [p.clone() for p in params]
            for p, g in zip(params, grads, strict=True):
                p.add_(scale * g)
        grads = gradient(x, y)
        with torch.no_grad():
            for p, w, g in zip(params, start, grads, strict=True):
                p.copy_(w - 0.1 * g)
    for name, p in model.named_parameters():
        torch.testing.assert_close(trained[name], p.detach(), rtol=0, atol=1e-6)
    assert ckpt["optimizer_states"][0]["param_groups"][0]["rho"] == 0.05


def test_sam_under_lightning_counts_only_the_clean_pass_in_metrics_and_batchnorm_statistics(make_cfg):
    """With BatchNorm (F1), one SAM update on one batch of 100: the running averages moved once, by the
    clean pass at the starting weights (momentum 0.1 from mean 0, variance 1), and the epoch's training loss
    is the clean pass's loss, not a mean with the perturbed pass's."""
    cfg = make_cfg(
        "optimizer=sam",
        "model=keskar_f1",
        "model.width=8",
        "model.depth=1",
        "data.subset=100",
        "data.val_size=0",
        "data.batch_size=100",
        "data.eval_train=false",
        "trainer.max_epochs=1",
        "trainer.limit_test_batches=1",
        "checkpoint.keep=true",
    )
    record = train(cfg)
    assert record["status"] == "ok" and record["updates"] == 1
    ckpt = load_checkpoint(checkpoint_dir(cfg.paths.results, cfg.experiment_name, record["run_key"]) / LAST)
    torch.manual_seed(cfg.seed)
    model = instantiate(cfg.model)
    data = instantiate(cfg.data, seed=cfg.seed, _convert_="all")
    data.setup()
    ((x, y),) = list(data.train_dataloader())
    model.train()
    with torch.no_grad():
        h = model[1](model[0](x))  # Flatten, Linear: what the BatchNorm layer normalises
        clean_loss = torch.nn.functional.cross_entropy(model(x), y).item()
    state = ckpt["state_dict"]
    torch.testing.assert_close(state["model.2.running_mean"], 0.1 * h.mean(0), rtol=0, atol=1e-6)
    torch.testing.assert_close(state["model.2.running_var"], 0.9 + 0.1 * h.var(0), rtol=0, atol=1e-5)
    assert math.isclose(record["metrics"]["train_loss"], clean_loss, rel_tol=1e-5)
