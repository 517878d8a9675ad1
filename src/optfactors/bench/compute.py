"""Compute efficiency: achieved training FLOP/s of the MNIST ``mlp`` at a large batch, and of Keskar's C1 (the
network of the CIFAR-10 studies) at batch 128 as it trains by default, in ``channels_last`` and compiled,
against the machine's own float32 ``torch.mm`` peak, same process, same thread count."""

from __future__ import annotations

from collections.abc import Callable

import torch
from hydra.utils import instantiate
from torch.utils.flop_counter import FlopCounterMode

from optfactors.bench.core import Measurement, median_time, meets, project_config

TARGET = ">= 0.5"


def linear_widths(model: torch.nn.Module) -> list[tuple[int, int]]:
    """(in, out) of every Linear layer, in order."""
    return [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, torch.nn.Linear)]


def training_flops(widths: list[tuple[int, int]], batch_size: int) -> float:
    """Multiply-add FLOPs (2 per multiply-add) of one update of a stack of Linear layers: the forward pass,
    the weight gradients, and the input gradients of every layer but the first (the images need none).
    Biases, ReLUs, the loss and the optimizer step are left out (O(batch x width), not O(batch x width^2))."""
    layer = [2.0 * batch_size * i * o for i, o in widths]
    return sum(layer) + sum(layer) + sum(layer[1:])


def counted_flops(step: Callable[[], object]) -> float:
    """FLOPs of one call of ``step`` (every matmul and convolution, forward and backward), as torch counts."""
    with FlopCounterMode(display=False) as counter:
        step()
    return float(counter.get_total_flops())


def c1_variants(batch_size: int, repeats: int, peak: float, variants: tuple[str, ...]) -> list[Measurement]:
    """One SGD update of C1 on random CIFAR-10-shaped data, per variant (``default`` first): images/s and
    achieved / peak."""
    x, y = torch.randn(batch_size, 3, 32, 32), torch.randint(0, 10, (batch_size,))
    loss_fn = torch.nn.CrossEntropyLoss()
    updates, flops = {}, 0.0
    for variant in variants:
        torch.manual_seed(0)
        model = instantiate(project_config("setting=cifar10_c1").model)
        inputs = x
        if variant == "channels_last":
            model, inputs = (
                model.to(memory_format=torch.channels_last),
                x.to(memory_format=torch.channels_last),
            )
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        forward = torch.compile(model) if variant == "torch.compile" else model

        def update(forward=forward, optimizer=optimizer, inputs=inputs) -> None:
            optimizer.zero_grad(set_to_none=True)
            loss_fn(forward(inputs), y).backward()
            optimizer.step()

        if variant == "default":
            flops = counted_flops(lambda model=model: loss_fn(model(x), y).backward())
        updates[variant] = update
    times = median_time(updates, repeats, warmup=2)
    rows = []
    for variant, seconds in times.items():
        ratio = flops / seconds / peak
        name = f"compute: C1 training update ({variant}), achieved / mm peak"
        rows.append(
            Measurement(
                name, batch_size, flops / seconds / 1e9, "GFLOP/s", ratio, TARGET, meets(ratio, TARGET)
            )
        )
        rows.append(
            Measurement(
                f"compute: C1 training update ({variant})", batch_size, batch_size / seconds, "images/s"
            )
        )
    return rows


def run(root: str, tiny: bool, repeats: int) -> list[Measurement]:
    """Peak: median time of ``torch.mm`` on two n x n float32 matrices (n = 4096; 512 if ``tiny``), 2 n^3
    FLOPs. Achieved: median time of one SGD update of ``mlp`` at batch 8,192 (512 if ``tiny``) on random
    data."""
    n, batch_size = (512, 512) if tiny else (4096, 8192)
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.manual_seed(0)
    model = instantiate(project_config("model=mlp").model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(batch_size, 1, 28, 28), torch.randint(0, 10, (batch_size,))
    loss_fn = torch.nn.CrossEntropyLoss()

    def update() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        optimizer.step()

    times = median_time({"mm": lambda: torch.mm(a, b), "update": update}, repeats, warmup=2)
    peak = 2.0 * n**3 / times["mm"]
    achieved = training_flops(linear_widths(model), batch_size) / times["update"]
    ratio = achieved / peak
    # compiling takes a minute: --tiny (the tests) checks the other variants only
    variants = ("default", "channels_last") + (() if tiny else ("torch.compile",))
    c1 = c1_variants(16 if tiny else 128, repeats, peak, variants)
    return [
        Measurement(f"compute: torch.mm peak ({n} x {n}, float32)", None, peak / 1e9, "GFLOP/s"),
        Measurement(
            "compute: mlp training update, achieved / mm peak",
            batch_size,
            achieved / 1e9,
            "GFLOP/s",
            ratio,
            TARGET,
            meets(ratio, TARGET),
        ),
        *c1,
    ]
