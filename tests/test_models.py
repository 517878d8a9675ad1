"""Tests for optfactors.models and the conf/model/*.yaml Hydra configs."""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path

import pytest
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import nn

from optfactors import models
from optfactors.models import TFSameMaxPool2d, keskar_c1, keskar_c2, keskar_f1, lenet5, mlp, resnet_cifar

MNIST = (1, 28, 28)
CIFAR = (3, 32, 32)
MODEL_CONF = Path(__file__).resolve().parents[1] / "conf" / "model"


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    ("builder", "shape"),
    [
        (mlp, MNIST),
        (mlp, CIFAR),
        (keskar_f1, MNIST),
        (keskar_f1, CIFAR),
        (keskar_c1, MNIST),
        (keskar_c1, CIFAR),
        (keskar_c2, CIFAR),
        (lenet5, MNIST),
        (lenet5, CIFAR),
        (resnet_cifar, CIFAR),
        (resnet_cifar, MNIST),
    ],
)
def test_output_shape(builder, shape) -> None:
    model = builder(shape, 10)
    x = torch.randn(3, *shape)
    assert model(x).shape == (3, 10)
    model.eval()
    with torch.no_grad():
        out = model(x)
    assert out.shape == (3, 10)
    assert torch.isfinite(out).all()


def test_mlp_default_param_count_on_mnist() -> None:
    assert n_params(mlp(MNIST, 10)) == 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10 == 669706


def test_mlp_hidden_widths_and_listconfig() -> None:
    model = mlp(OmegaConf.create([1, 28, 28]), 10, hidden=OmegaConf.create([100]))
    linears = [m for m in model if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(784, 100), (100, 10)]
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def test_mlp_batch_size_one_in_train_mode() -> None:
    model = mlp(MNIST, 10).train()
    out = model(torch.randn(1, *MNIST))
    out.sum().backward()
    assert out.shape == (1, 10)
    assert all(p.grad is not None for p in model.parameters())


def test_keskar_f1_structure() -> None:
    model = keskar_f1(MNIST, 10)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm1d)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert len(bns) == 5
    assert all(bn.num_features == 512 for bn in bns)
    assert [(m.in_features, m.out_features) for m in linears] == [(784, 512)] + [(512, 512)] * 4 + [(512, 10)]
    small = keskar_f1(MNIST, 10, width=64, depth=2)
    assert sum(isinstance(m, nn.BatchNorm1d) for m in small.modules()) == 2


def test_keskar_c1_param_count_on_cifar10() -> None:
    conv1 = 3 * 64 * 5 * 5 + 64
    conv2 = 64 * 64 * 5 * 5 + 64
    bn2d = 2 * 64  # weight + bias of each BatchNorm2d
    flat = 64 * 8 * 8  # 32 -> 16 -> 8 with TF 'same' pooling
    fc1 = flat * 384 + 384
    fc2 = 384 * 192 + 192
    fc3 = 192 * 10 + 10
    bn1d = 2 * 384 + 2 * 192
    expected = conv1 + bn2d + conv2 + bn2d + fc1 + fc2 + fc3 + bn1d
    assert n_params(keskar_c1(CIFAR, 10)) == expected == 1757834


def test_keskar_c1_flattened_size_on_mnist() -> None:
    first_linear = next(m for m in keskar_c1(MNIST, 10) if isinstance(m, nn.Linear))
    assert first_linear.in_features == 64 * 7 * 7  # 28 -> 14 -> 7


def _layer_name(module: nn.Module) -> str:
    """A layer as network_zoo.py names it: conv64, bn, relu, dropout0.3, pool, flatten, dense512."""
    if isinstance(module, nn.Conv2d):
        return f"conv{module.out_channels}"
    if isinstance(module, nn.Linear):
        return f"dense{module.out_features}"
    if isinstance(module, nn.Dropout):
        return f"dropout{module.p}"
    names = {nn.BatchNorm2d: "bn", nn.BatchNorm1d: "bn", nn.ReLU: "relu", nn.MaxPool2d: "pool"}
    return names[type(module)] if type(module) in names else type(module).__name__.lower()


def _conv(width: int, dropout: float | None = None) -> list[str]:
    """network_zoo.py's Convolution2D(width, 3, 3, border_mode='same'), BatchNorm, relu, then any Dropout."""
    return [f"conv{width}", "bn", "relu", *([f"dropout{dropout}"] if dropout else [])]


def test_keskar_c2_is_the_authors_deepnet() -> None:
    """Layer by layer ``deepnet`` of keskarnitish/large-batch-training's network_zoo.py, and its Keras
    parameter count by hand: 13 3x3 convolutions with biases, BatchNorm (gamma, beta) after each, Dense 512
    with its BatchNorm, Dense 10."""
    model = keskar_c2(CIFAR, 10)
    assert [_layer_name(m) for m in model] == [
        *_conv(64, 0.3), *_conv(64), "pool",
        *_conv(128, 0.4), *_conv(128), "pool",
        *_conv(256, 0.4), *_conv(256, 0.4), *_conv(256), "pool",
        *_conv(512, 0.4), *_conv(512, 0.4), *_conv(512), "pool",
        *_conv(512, 0.4), *_conv(512, 0.4), *_conv(512), "pool",
        "flatten", "dropout0.5", "dense512", "bn", "relu", "dropout0.5", "dense10",
    ]  # fmt: skip
    widths = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    convs = sum(9 * fan_in * width + width for fan_in, width in zip([3, *widths], widths, strict=False))
    bns = 2 * (sum(widths) + 512)
    dense = (512 * 512 + 512) + (512 * 10 + 10)
    assert n_params(model) == convs + bns + dense == 14_991_946  # Keras: "Trainable params"
    statistics = sum(b.numel() for name, b in model.named_buffers() if name.endswith(("_mean", "_var")))
    assert statistics == bns == 9_472  # Keras's non-trainable BatchNorm mean and std: 15,001,418 in all


def test_a_builders_init_sets_every_weight_and_zeroes_the_biases() -> None:
    model = keskar_c2(CIFAR, 10, init=nn.init.ones_)
    layers = [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    assert len(layers) == 15 and all(torch.all(m.weight == 1) and torch.all(m.bias == 0) for m in layers)
    he = resnet_cifar(CIFAR, 10, init=partial(nn.init.kaiming_normal_, mode="fan_in", nonlinearity="relu"))
    widest = [m.weight for m in he.modules() if isinstance(m, nn.Conv2d)][-1]  # 64 x 64 x 3 x 3
    assert widest.std().item() == pytest.approx(math.sqrt(2 / (64 * 9)), rel=0.03)


@pytest.mark.parametrize(
    ("build", "abs_sum"),
    [
        (lambda: keskar_f1(MNIST, 10), 33060.437476699044),
        (lambda: keskar_c1(CIFAR, 10, filters=16, dense=(128, 64), dropout=0.0), 2913.3007627983097),
        (lambda: resnet_cifar(CIFAR, 10, depth=20, width=8, residual=False), 2686.6113549905726),
    ],
)
def test_without_init_the_quick_profiles_networks_start_from_the_same_weights(build, abs_sum: float) -> None:
    """Seed 0's initial weights of the quick profiles' networks, as before builders took ``init``."""
    weights = sum(p.double().abs().sum().item() for p in build().parameters())
    assert weights == pytest.approx(abs_sum, rel=1e-9)


def test_lenet5_layer_sizes() -> None:
    for shape, flat in ((MNIST, 16 * 5 * 5), (CIFAR, 16 * 6 * 6)):
        linears = [m for m in lenet5(shape, 10) if isinstance(m, nn.Linear)]
        assert [(m.in_features, m.out_features) for m in linears] == [(flat, 120), (120, 84), (84, 10)]


def test_builders_leave_modules_in_train_mode() -> None:
    for model in (keskar_c1(CIFAR, 10), keskar_c2(CIFAR, 10), lenet5(MNIST, 10)):
        assert all(m.training for m in model.modules())
    bn = next(m for m in keskar_c1(CIFAR, 10).modules() if isinstance(m, nn.BatchNorm2d))
    assert bn.num_batches_tracked.item() == 0  # the dummy forward did not touch the running stats


# --- TF 'same' max-pooling -------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [32, 28, 7, 4, 1])
def test_tf_same_pool_output_size(n: int) -> None:
    out = TFSameMaxPool2d(3, 2)(torch.randn(2, 3, n, n))
    assert out.shape == (2, 3, math.ceil(n / 2), math.ceil(n / 2))


def test_tf_same_pool_pads_after_on_even_input() -> None:
    pool = TFSameMaxPool2d(3, 2)
    assert pool._pads(32) == (0, 1)
    assert pool._pads(4) == (0, 1)
    assert pool._pads(7) == (1, 1)


def test_tf_same_pool_hand_example_positive() -> None:
    # For n=4, k=3, s=2 TF pads one row/column after: windows cover rows/cols [0:3] and [2:4] (+ padding).
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    expected = torch.tensor([[[[10.0, 11.0], [14.0, 15.0]]]])
    torch.testing.assert_close(TFSameMaxPool2d(3, 2)(x), expected)


def test_tf_same_pool_padding_never_wins() -> None:
    # All-negative input: zero padding would give 0 in every window touching the pad; -inf padding must not.
    x = -(torch.arange(16.0) + 1).reshape(1, 1, 4, 4)
    expected = torch.tensor([[[[-1.0, -3.0], [-9.0, -11.0]]]])
    torch.testing.assert_close(TFSameMaxPool2d(3, 2)(x), expected)


def test_tf_same_pool_differs_from_symmetric_padding() -> None:
    # PyTorch's padding=1 shifts windows to start at -1; TF 'same' starts them at 0 on even inputs.
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    symmetric = nn.MaxPool2d(3, 2, padding=1)(x)
    assert symmetric.shape == (1, 1, 2, 2)
    assert not torch.equal(symmetric, TFSameMaxPool2d(3, 2)(x))


def test_tf_same_pool_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="kernel_size and stride must be >= 1"):
        TFSameMaxPool2d(3, 0)


def test_resnet_cifar_depths_and_the_plain_counterpart() -> None:
    for depth in (20, 56):
        residual, plain = (
            resnet_cifar(CIFAR, 10, depth=depth),
            resnet_cifar(CIFAR, 10, depth=depth, residual=False),
        )
        convs = [m for m in residual.modules() if isinstance(m, nn.Conv2d)]
        linears = [m for m in residual.modules() if isinstance(m, nn.Linear)]
        assert len(convs) + len(linears) == depth  # weighted layers, as He et al. count them
        # option-A shortcuts have no parameters: the plain network has exactly the same ones
        assert [p.shape for p in plain.parameters()] == [p.shape for p in residual.parameters()]
    # He et al. (2016), Table 6: 0.27M and 0.85M parameters
    assert n_params(resnet_cifar(CIFAR, 10, depth=20)) == 269722
    assert n_params(resnet_cifar(CIFAR, 10, depth=56)) == 853018


def test_resnet_cifar_block_with_a_silent_branch_passes_its_input_on() -> None:
    """With the residual branch's last BatchNorm scaled to zero a block is ReLU(shortcut): the identity for a
    non-negative input, and the subsampled, zero-padded input where it changes width and resolution."""
    for fan_in, width, stride in ((4, 4, 1), (4, 8, 2)):
        block = models.BasicBlock(fan_in, width, stride, residual=True).eval()
        nn.init.zeros_(block.bn2.weight)
        x = torch.rand(2, fan_in, 8, 8)
        expected = torch.cat(
            [x[:, :, ::stride, ::stride], torch.zeros(2, width - fan_in, 8 // stride, 8 // stride)], 1
        )
        assert torch.equal(block(x), expected)
        plain = models.BasicBlock(fan_in, width, stride, residual=False).eval()
        nn.init.zeros_(plain.bn2.weight)
        assert torch.equal(plain(x), torch.zeros_like(expected))


# --- Hydra configs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("mlp", MNIST),
        ("keskar_f1", MNIST),
        ("keskar_c1", MNIST),
        ("keskar_c2", CIFAR),
        ("lenet5", MNIST),
        ("resnet_cifar", CIFAR),
    ],
)
def test_yaml_instantiates_builder(name: str, shape: tuple[int, ...]) -> None:
    model_cfg = OmegaConf.load(MODEL_CONF / f"{name}.yaml")
    assert model_cfg._target_ == f"optfactors.models.{name}"
    cfg = OmegaConf.create({"data": {"input_shape": list(shape), "num_classes": 10}, "model": model_cfg})
    model = instantiate(cfg.model)
    reference = getattr(models, name)(shape, 10)
    assert isinstance(model, nn.Module)
    assert repr(model) == repr(reference)
    assert n_params(model) == n_params(reference)
    assert model.eval()(torch.zeros(2, *shape)).shape == (2, 10)


def test_yaml_mlp_default_is_784_512_512_10() -> None:
    cfg = OmegaConf.create({"data": {"input_shape": [1, 28, 28], "num_classes": 10}})
    cfg.model = OmegaConf.load(MODEL_CONF / "mlp.yaml")
    assert n_params(instantiate(cfg.model)) == 669706


def test_yaml_keskar_c2_on_mnist_fails_clearly() -> None:
    cfg = OmegaConf.create({"data": {"input_shape": [1, 28, 28], "num_classes": 10}})
    cfg.model = OmegaConf.load(MODEL_CONF / "keskar_c2.yaml")
    with pytest.raises(InstantiationException, match="H and W >= 32"):
        instantiate(cfg.model)


# --- argument validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: mlp((), 10), "input_shape must be a non-empty"),
        (lambda: mlp((1, 0, 28), 10), "input_shape must be a non-empty sequence of positive ints"),
        (lambda: mlp(MNIST, 1), "num_classes must be >= 2"),
        (lambda: mlp(MNIST, 10, hidden=(512, 0)), "hidden widths must be positive"),
        (lambda: keskar_f1(MNIST, 10, depth=0), "width and depth must be >= 1"),
        (lambda: keskar_f1(MNIST, 10, width=0), "width and depth must be >= 1"),
        (lambda: keskar_c1((28, 28), 10), r"must be \(C, H, W\)"),
        (lambda: lenet5((1, 28, 28, 1), 10), r"must be \(C, H, W\)"),
        (lambda: keskar_c2(MNIST, 10), "keskar_c2 needs H and W >= 32"),
        (lambda: keskar_c2((3, 32, 16), 10), "keskar_c2 needs H and W >= 32"),
        (lambda: keskar_c2(CIFAR, 10, conv_dropout=(0.3, 0.4)), "keskar_c2 needs 5 conv_dropout rates"),
        (lambda: lenet5((1, 8, 8), 10), "lenet5: input_shape .* is too small"),
        (lambda: resnet_cifar(CIFAR, 10, depth=21), "depth must be 6n \\+ 2"),
    ],
)
def test_bad_arguments_raise_value_error(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
