"""Interpolation end points, BatchNorm handling and filter-normalised directions, checked by hand."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from optfactors.analysis import landscape

Batches = list[tuple[Tensor, Tensor]]


def _bn_mlp(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    with torch.no_grad():  # non-trivial running statistics
        for _ in range(3):
            model(torch.randn(16, 4) * 2 + seed)
    return model


def _batches(n_batches: int = 2, size: int = 10, features: int = 4) -> Batches:
    generator = torch.Generator().manual_seed(3)
    return [
        (
            torch.randn(size, features, generator=generator) * 1.5 + 0.5,
            torch.randint(0, 3, (size,), generator=generator),
        )
        for _ in range(n_batches)
    ]


def _loss_and_accuracy(model: nn.Module, batches: Batches) -> tuple[float, float]:
    """Written out independently of the library: one eval-mode pass over all samples."""
    x, y = torch.cat([b[0] for b in batches]), torch.cat([b[1] for b in batches])
    model = copy.deepcopy(model).eval()
    with torch.no_grad():
        out = model(x)
    return F.cross_entropy(out, y).item(), (out.argmax(1) == y).float().mean().item()


@pytest.mark.parametrize("path", ["linear", "curved"])
@pytest.mark.parametrize("bn", ["interpolate", "recompute"])
def test_interpolation_end_points_reproduce_the_two_models(path: str, bn: str) -> None:
    model_a, model_b, batches = _bn_mlp(0), _bn_mlp(1), _batches()
    frame = landscape.interpolate(
        model_a, model_b, F.cross_entropy, batches, [0.0, 0.5, 1.0], path=path, bn=bn
    )
    assert list(frame.columns) == ["alpha", "loss", "accuracy"]
    assert frame["alpha"].tolist() == [0.0, 0.5, 1.0]
    ends = [copy.deepcopy(model_a), copy.deepcopy(model_b)]
    if bn == "recompute":  # the end points are the two models with BatchNorm statistics from the batches
        for model in ends:
            landscape.recompute_bn_statistics(model, batches)
    for row, model in zip([frame.iloc[0], frame.iloc[-1]], ends, strict=True):
        loss, accuracy = _loss_and_accuracy(model, batches)
        assert row["loss"] == pytest.approx(loss, rel=1e-5)
        assert row["accuracy"] == pytest.approx(accuracy)


@pytest.mark.parametrize(
    ("path", "weights"),
    [("linear", (0.75, 0.25)), ("curved", (math.cos(math.pi / 8), math.sin(math.pi / 8)))],
)
def test_interpolated_model_mixes_parameters_and_bn_buffers(path: str, weights: tuple[float, float]) -> None:
    model_a, model_b, batches = _bn_mlp(0), _bn_mlp(1), _batches()
    state_b = model_b.state_dict()
    mixed = copy.deepcopy(model_a)
    mixed.load_state_dict(
        {
            k: weights[0] * v + weights[1] * state_b[k] if v.is_floating_point() else v
            for k, v in model_a.state_dict().items()
        }
    )
    frame = landscape.interpolate(model_a, model_b, F.cross_entropy, batches, [0.25], path=path)
    assert frame["loss"].item() == pytest.approx(_loss_and_accuracy(mixed, batches)[0], rel=1e-5)


def test_extrapolation_clamps_interpolated_running_variance() -> None:
    model_a, model_b = _bn_mlp(0), _bn_mlp(1)
    with torch.no_grad():
        model_a[1].running_var.fill_(3.0)
        model_b[1].running_var.fill_(1.0)
    frame = landscape.interpolate(model_a, model_b, F.cross_entropy, _batches(), [-1.0, 2.0])
    assert np.isfinite(frame["loss"]).all()


def test_recompute_bn_statistics_gives_the_batch_statistics() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.BatchNorm1d(4), nn.Dropout(0.5), nn.Linear(4, 3)
    )  # BatchNorm sees the raw inputs
    model[0].momentum = 0.3
    model.eval()
    batches = _batches(n_batches=3, size=10)
    landscape.recompute_bn_statistics(model, batches)
    x = torch.stack([b[0] for b in batches])  # (batches, size, features)
    torch.testing.assert_close(model[0].running_mean, x.mean(dim=(0, 1)))
    torch.testing.assert_close(model[0].running_var, x.var(dim=1, unbiased=True).mean(dim=0))
    assert model[0].momentum == 0.3
    assert not any(m.training for m in model.modules())


def test_recompute_option_uses_the_batch_statistics_at_each_alpha() -> None:
    model_a, model_b, batches = _bn_mlp(0), _bn_mlp(1), _batches()
    frame = landscape.interpolate(model_a, model_b, F.cross_entropy, batches, [0.5], bn="recompute")
    state_b = model_b.state_dict()
    mixed = copy.deepcopy(model_a)
    mixed.load_state_dict(
        {k: (v + state_b[k]) / 2 if v.is_floating_point() else v for k, v in model_a.state_dict().items()}
    )
    # BatchNorm's input is the first layer's output; its statistics are the (equal) batches' mean / variance.
    with torch.no_grad():
        hidden = torch.stack([mixed[0](b[0]) for b in batches])
        mixed[1].running_mean.copy_(hidden.mean(dim=(0, 1)))
        mixed[1].running_var.copy_(hidden.var(dim=1, unbiased=True).mean(dim=0))
    assert frame["loss"].item() == pytest.approx(_loss_and_accuracy(mixed, batches)[0], rel=1e-5)


def test_interpolate_rejects_bad_arguments() -> None:
    model = _bn_mlp(0)
    with pytest.raises(ValueError, match="path"):
        landscape.interpolate(model, model, F.cross_entropy, _batches(), [0.0], path="cubic")
    with pytest.raises(ValueError, match="bn"):
        landscape.interpolate(model, model, F.cross_entropy, _batches(), [0.0], bn="ignore")
    with pytest.raises(ValueError, match="same parameters"):
        landscape.interpolate(model, nn.Linear(4, 3), F.cross_entropy, _batches(), [0.0])


def _conv_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 3)
    )


def test_filter_normalized_direction_has_the_filters_norms() -> None:
    model = _conv_model()
    direction = landscape.filter_normalized_direction(model, torch.Generator().manual_seed(0))
    assert direction.keys() == dict(model.named_parameters()).keys()
    for name, p in model.named_parameters():
        d = direction[name]
        assert d.shape == p.shape and not d.requires_grad
        if p.dim() <= 1:  # biases and BatchNorm weight and bias
            assert torch.count_nonzero(d) == 0
        else:
            torch.testing.assert_close(d.flatten(1).norm(dim=1), p.detach().flatten(1).norm(dim=1))
            assert not torch.allclose(d, p.detach())  # random, not the weights themselves


def test_layer_normalized_direction_has_the_layers_norms() -> None:
    model = _conv_model()
    direction = landscape.filter_normalized_direction(model, torch.Generator().manual_seed(0), "layer")
    for name, p in model.named_parameters():
        expected = p.detach().norm() if p.dim() >= 2 else torch.tensor(0.0)
        torch.testing.assert_close(direction[name].norm(), expected)
    with pytest.raises(ValueError, match="normalization"):
        landscape.filter_normalized_direction(model, torch.Generator(), "none")


def _images(n: int = 12) -> Batches:
    generator = torch.Generator().manual_seed(5)
    return [(torch.randn(n, 2, 6, 6, generator=generator), torch.randint(0, 3, (n,), generator=generator))]


def _perturbed(model: nn.Module, steps: list[tuple[float, dict[str, Tensor]]]) -> nn.Module:
    model = copy.deepcopy(model)
    with torch.no_grad():
        for name, p in model.named_parameters():
            for scale, direction in steps:
                p.add_(scale * direction[name])
    return model


def test_random_perturbation_evaluates_theta_plus_r_d() -> None:
    model, batches, radii = _conv_model(), _images(), [0.0, 0.1, 0.5]
    frame = landscape.random_perturbation(model, F.cross_entropy, batches, radii, n_directions=2, seed=4)
    assert list(frame.columns) == ["direction", "radius", "loss", "accuracy"]
    assert frame[["direction", "radius"]].values.tolist() == [[d, r] for d in (0, 1) for r in radii]
    generator = torch.Generator().manual_seed(4)
    directions = [landscape.filter_normalized_direction(model, generator) for _ in range(2)]
    expected = [_loss_and_accuracy(_perturbed(model, [(r, d)]), batches) for d in directions for r in radii]
    pd.testing.assert_frame_equal(
        frame[["loss", "accuracy"]], pd.DataFrame(expected, columns=["loss", "accuracy"]), rtol=1e-5
    )


def test_random_plane_covers_the_grid() -> None:
    model, batches, radii = _conv_model(), _images(), [-0.5, 0.0, 0.5]
    frame = landscape.random_plane(model, F.cross_entropy, batches, radii, seed=2)
    assert list(frame.columns) == ["a", "b", "loss", "accuracy"]
    assert frame[["a", "b"]].values.tolist() == [[a, b] for a in radii for b in radii]
    generator = torch.Generator().manual_seed(2)
    first, second = (landscape.filter_normalized_direction(model, generator) for _ in range(2))
    expected = [
        _loss_and_accuracy(_perturbed(model, [(a, first), (b, second)]), batches)
        for a in radii
        for b in radii
    ]
    pd.testing.assert_frame_equal(
        frame[["loss", "accuracy"]], pd.DataFrame(expected, columns=["loss", "accuracy"]), rtol=1e-5
    )
