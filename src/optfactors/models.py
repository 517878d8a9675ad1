"""Model builders for the experiments (pure ``torch.nn``).

Every public builder has the signature ``name(input_shape, num_classes, **options) -> nn.Module`` where
``input_shape`` is the ``(C, H, W)`` shape of one image and the model maps float tensors of shape
``(B, C, H, W)`` to logits of shape ``(B, num_classes)``. Seeding is left to the caller.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "BasicBlock",
    "GhostBatchNorm1d",
    "GhostBatchNorm2d",
    "TFSameMaxPool2d",
    "keskar_c1",
    "keskar_c2",
    "keskar_f1",
    "lenet5",
    "mlp",
    "resnet_cifar",
]

#: A weight initialiser, called on each Conv2d and Linear weight in place (e.g. a partial of
#: ``torch.nn.init.kaiming_normal_``); None keeps PyTorch's default initialisation.
Init = Callable[[torch.Tensor], object] | None

# VGG-16's five blocks as (width, 3x3 convolutions), each ending in a 2x2 max-pool.
_VGG16_BLOCKS: tuple[tuple[int, int], ...] = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))


class TFSameMaxPool2d(nn.Module):
    """Max-pooling with TensorFlow's ``padding='same'`` semantics.

    Each spatial side of size ``n`` gives ``ceil(n / stride)`` outputs; the needed padding
    ``max((ceil(n / s) - 1) * s + k - n, 0)`` is split with the smaller half before and the rest after,
    and filled with ``-inf`` so padded positions never win the max.
    """

    def __init__(self, kernel_size: int, stride: int) -> None:
        super().__init__()
        if kernel_size < 1 or stride < 1:
            raise ValueError(f"kernel_size and stride must be >= 1, got {kernel_size} and {stride}")
        self.kernel_size = kernel_size
        self.stride = stride

    def _pads(self, n: int) -> tuple[int, int]:
        total = max((math.ceil(n / self.stride) - 1) * self.stride + self.kernel_size - n, 0)
        return total // 2, total - total // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = self._pads(x.shape[-2])
        left, right = self._pads(x.shape[-1])
        x = F.pad(x, (left, right, top, bottom), value=-math.inf)
        return F.max_pool2d(x, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class _GhostBatchNorm(nn.modules.batchnorm._BatchNorm):
    """Ghost batch normalization (Hoffer et al. 2017): in training mode, a batch of B samples is normalised
    as ceil(B / ``ghost_batch_size``) virtual batches of near-equal size (each exactly ``ghost_batch_size``
    when it divides B), each with its own statistics, and the running averages are updated once per virtual
    batch. In eval mode it is plain BatchNorm; its parameters and buffers are BatchNorm's."""

    def __init__(self, num_features: int, ghost_batch_size: int = 128, **options: object) -> None:
        super().__init__(num_features, **options)
        if int(ghost_batch_size) < 2:
            raise ValueError(f"ghost_batch_size must be >= 2, got {ghost_batch_size}")
        self.ghost_batch_size = int(ghost_batch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or len(x) <= self.ghost_batch_size:
            return super().forward(x)
        parts = x.tensor_split(math.ceil(len(x) / self.ghost_batch_size))
        return torch.cat([super(_GhostBatchNorm, self).forward(part) for part in parts])

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, ghost_batch_size={self.ghost_batch_size}"


class GhostBatchNorm1d(_GhostBatchNorm, nn.BatchNorm1d):
    """`BatchNorm1d` with ghost batches (see `_GhostBatchNorm`)."""


class GhostBatchNorm2d(_GhostBatchNorm, nn.BatchNorm2d):
    """`BatchNorm2d` with ghost batches (see `_GhostBatchNorm`)."""


def _batch_norm(dims: int, features: int, ghost_batch_size: int | None) -> nn.Module:
    """BatchNorm1d/2d over ``features``, or its ghost version with virtual batches of ``ghost_batch_size``."""
    if ghost_batch_size is None:
        return (nn.BatchNorm1d, nn.BatchNorm2d)[dims - 1](features)
    return (GhostBatchNorm1d, GhostBatchNorm2d)[dims - 1](features, ghost_batch_size)


def _check_shape(input_shape: Sequence[int], num_classes: int, *, image: bool) -> tuple[int, ...]:
    """Validate the common builder arguments; return ``input_shape`` as a tuple of ints."""
    shape = tuple(int(v) for v in input_shape)
    if not shape or any(v < 1 for v in shape):
        raise ValueError(f"input_shape must be a non-empty sequence of positive ints, got {shape}")
    if image and len(shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W) for a convolutional model, got {shape}")
    if int(num_classes) < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    return shape


def _initialized(model: nn.Module, init: Init) -> nn.Module:
    """``model`` with ``init`` applied to every Conv2d and Linear weight and those layers' biases set to zero
    (Keras's and Caffe's convention); unchanged when ``init`` is None."""
    if init is not None:
        for layer in model.modules():
            if isinstance(layer, nn.Conv2d | nn.Linear):
                init(layer.weight)
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)
    return model


def _flat_size(layers: Sequence[nn.Module], input_shape: tuple[int, ...], name: str) -> int:
    """Number of features ``layers`` produce per example, found by a dummy forward pass in eval mode."""
    features = nn.Sequential(*layers).eval()
    try:
        with torch.no_grad():
            out = features(torch.zeros(1, *input_shape))
    except RuntimeError as err:
        raise ValueError(f"{name}: input_shape {input_shape} is too small for its layers ({err})") from err
    features.train()
    return out[0].numel()


def mlp(input_shape: Sequence[int], num_classes: int, hidden: Sequence[int] = (512, 512)) -> nn.Module:
    """ReLU MLP without normalisation: Flatten -> [Linear, ReLU] per ``hidden`` width -> Linear."""
    shape = _check_shape(input_shape, num_classes, image=False)
    widths = [int(h) for h in hidden]
    if any(h < 1 for h in widths):
        raise ValueError(f"hidden widths must be positive, got {widths}")
    layers: list[nn.Module] = [nn.Flatten()]
    fan_in = math.prod(shape)
    for width in widths:
        layers += [nn.Linear(fan_in, width), nn.ReLU()]
        fan_in = width
    layers.append(nn.Linear(fan_in, int(num_classes)))
    return nn.Sequential(*layers)


def keskar_f1(
    input_shape: Sequence[int],
    num_classes: int,
    width: int = 512,
    depth: int = 5,
    ghost_batch_size: int | None = None,
    init: Init = None,
) -> nn.Module:
    """Keskar et al. (2017) F1: Flatten -> ``depth`` x [Linear ``width``, BatchNorm1d, ReLU] -> Linear.
    With ``ghost_batch_size``, ghost batch normalization over virtual batches of that size; ``init``
    initialises the weights (`Init`)."""
    shape = _check_shape(input_shape, num_classes, image=False)
    width, depth = int(width), int(depth)
    if width < 1 or depth < 1:
        raise ValueError(f"width and depth must be >= 1, got width={width}, depth={depth}")
    layers: list[nn.Module] = [nn.Flatten()]
    fan_in = math.prod(shape)
    for _ in range(depth):
        layers += [nn.Linear(fan_in, width), _batch_norm(1, width, ghost_batch_size), nn.ReLU()]
        fan_in = width
    layers.append(nn.Linear(fan_in, int(num_classes)))
    return _initialized(nn.Sequential(*layers), init)


def keskar_c1(
    input_shape: Sequence[int],
    num_classes: int,
    filters: int = 64,
    dense: Sequence[int] = (384, 192),
    dropout: float = 0.5,
    ghost_batch_size: int | None = None,
    init: Init = None,
) -> nn.Module:
    """Keskar et al. (2017) C1 as in the authors' Keras code (shallow conv net with TF 'same' pooling).

    2 x [Conv ``filters`` 5x5 same, BatchNorm2d, ReLU, MaxPool 3x3/2 same] -> Flatten
    -> per ``dense`` width [Linear, BatchNorm1d, ReLU, Dropout ``dropout``] -> Linear.
    The defaults are the paper's (64 filters, dense 384-192, dropout 0.5); narrower or dropout-free
    variants are for CPU-sized studies. With ``ghost_batch_size``, every BatchNorm is ghost batch
    normalization over virtual batches of that size; ``init`` initialises the weights (`Init`).
    """
    shape = _check_shape(input_shape, num_classes, image=True)
    filters, widths, dropout = int(filters), [int(w) for w in dense], float(dropout)
    if filters < 1 or any(w < 1 for w in widths) or not 0.0 <= dropout < 1.0:
        raise ValueError(
            f"keskar_c1 needs filters, dense >= 1 and 0 <= dropout < 1, got {filters}, {widths}, {dropout}"
        )
    features: list[nn.Module] = []
    channels = shape[0]
    for _ in range(2):
        features += [
            nn.Conv2d(channels, filters, kernel_size=5, padding="same"),
            _batch_norm(2, filters, ghost_batch_size),
            nn.ReLU(),
            TFSameMaxPool2d(kernel_size=3, stride=2),
        ]
        channels = filters
    fan_in = _flat_size(features, shape, "keskar_c1")
    dense_layers: list[nn.Module] = []
    for width in widths:
        dense_layers += [nn.Linear(fan_in, width), _batch_norm(1, width, ghost_batch_size), nn.ReLU()]
        if dropout > 0:
            dense_layers.append(nn.Dropout(dropout))
        fan_in = width
    model = nn.Sequential(*features, nn.Flatten(), *dense_layers, nn.Linear(fan_in, int(num_classes)))
    return _initialized(model, init)


def keskar_c2(
    input_shape: Sequence[int],
    num_classes: int,
    dense: int = 512,
    conv_dropout: Sequence[float] = (0.3, 0.4, 0.4, 0.4, 0.4),
    dropout: float = 0.5,
    init: Init = None,
) -> nn.Module:
    """Keskar et al. (2017) C2 as in the authors' Keras code (``deepnet`` in network_zoo.py), a CIFAR VGG-16.

    Five blocks of [Conv 3x3 same, BatchNorm2d, ReLU] (widths 64, 128, 256, 512, 512; 2, 2, 3, 3, 3 convs),
    with Dropout ``conv_dropout[block]`` after every convolution but a block's last, each block ending in a
    2x2 max-pool -> Flatten -> Dropout ``dropout`` -> [Linear ``dense``, BatchNorm1d, ReLU] -> Dropout
    ``dropout`` -> Linear. The defaults are the authors'. ``init`` initialises the weights (`Init`).
    """
    shape = _check_shape(input_shape, num_classes, image=True)
    pools = len(_VGG16_BLOCKS)
    if min(shape[1:]) < 2**pools:
        raise ValueError(
            f"keskar_c2 needs H and W >= {2**pools} for its {pools} max-pools, got input_shape {shape}"
        )
    rates, dropout, dense = [float(r) for r in conv_dropout], float(dropout), int(dense)
    if len(rates) != pools or not all(0.0 <= r < 1.0 for r in [*rates, dropout]) or dense < 1:
        raise ValueError(
            f"keskar_c2 needs {pools} conv_dropout rates and a dropout in [0, 1) and dense >= 1, got "
            f"{rates}, {dropout}, {dense}"
        )
    features: list[nn.Module] = []
    channels = shape[0]
    for (width, convs), rate in zip(_VGG16_BLOCKS, rates, strict=True):
        for conv in range(convs):
            features += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
            if conv < convs - 1 and rate > 0:
                features.append(nn.Dropout(rate))
            channels = width
        features.append(nn.MaxPool2d(kernel_size=2, stride=2))
    flat = _flat_size(features, shape, "keskar_c2")
    head = [nn.Linear(flat, dense), nn.BatchNorm1d(dense), nn.ReLU()]
    if dropout > 0:
        head = [nn.Dropout(dropout), *head, nn.Dropout(dropout)]
    model = nn.Sequential(*features, nn.Flatten(), *head, nn.Linear(dense, int(num_classes)))
    return _initialized(model, init)


def lenet5(input_shape: Sequence[int], num_classes: int) -> nn.Module:
    """LeNet-5 with ReLU and max-pooling: conv 6@5x5 (pad 2), pool, conv 16@5x5, pool, FC 120-84-classes."""
    shape = _check_shape(input_shape, num_classes, image=True)
    features: list[nn.Module] = [
        nn.Conv2d(shape[0], 6, kernel_size=5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, kernel_size=5),
        nn.ReLU(),
        nn.MaxPool2d(2),
    ]
    flat = _flat_size(features, shape, "lenet5")
    return nn.Sequential(
        *features,
        nn.Flatten(),
        nn.Linear(flat, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, int(num_classes)),
    )


class BasicBlock(nn.Module):
    """He et al. (2016) CIFAR block: conv3x3-BN-ReLU-conv3x3-BN, plus the input if ``residual``, then ReLU.

    Where the block halves the resolution and doubles the width, the shortcut is the paper's option A:
    the input subsampled by 2 and zero-padded in channels, which has no parameters, so the plain and the
    residual network have exactly the same parameters.
    """

    def __init__(self, fan_in: int, width: int, stride: int, residual: bool) -> None:
        super().__init__()
        self.residual, self.stride, self.extra = residual, stride, width - fan_in
        self.conv1 = nn.Conv2d(fan_in, width, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if self.residual:
            shortcut = x[:, :, :: self.stride, :: self.stride] if self.stride > 1 else x
            out = out + F.pad(shortcut, (0, 0, 0, 0, 0, self.extra))
        return F.relu(out)

    def extra_repr(self) -> str:
        return f"residual={self.residual}"


def resnet_cifar(
    input_shape: Sequence[int],
    num_classes: int,
    depth: int = 20,
    width: int = 16,
    residual: bool = True,
    init: Init = None,
) -> nn.Module:
    """He et al. (2016, Section 4.2) CIFAR network of ``depth`` = 6n + 2 layers: conv3x3 ``width`` -> 3
    stages of n `BasicBlock` (widths ``width``, 2 ``width``, 4 ``width``; the last two start with stride 2)
    -> global average pool -> Linear. ``residual=False`` is the paper's plain counterpart. ``init``
    initialises the weights (`Init`; He et al. used He-normal, a partial of ``nn.init.kaiming_normal_``)."""
    shape = _check_shape(input_shape, num_classes, image=True)
    depth, width = int(depth), int(width)
    if depth < 8 or (depth - 2) % 6 or width < 1:
        raise ValueError(f"depth must be 6n + 2 with n >= 1 and width >= 1, got depth={depth}, width={width}")
    blocks = (depth - 2) // 6
    layers: list[nn.Module] = [
        nn.Conv2d(shape[0], width, 3, padding=1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(),
    ]
    fan_in = width
    for stage in range(3):
        for block in range(blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            layers.append(BasicBlock(fan_in, width * 2**stage, stride, bool(residual)))
            fan_in = width * 2**stage
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(fan_in, int(num_classes))]
    return _initialized(nn.Sequential(*layers), init)
