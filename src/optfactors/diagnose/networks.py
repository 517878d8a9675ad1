"""Which network can compute what another can: the lecture tells model bias from an optimization issue by
comparing a run with networks that can do at most what its own can (shallower, narrower, or the same)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Network:
    """A network as far as containment goes: its family (what must agree), depth and hidden widths."""

    family: tuple[Any, ...]
    depth: int
    widths: tuple[int, ...]
    batchnorm: bool

    def contains(self, other: Network) -> bool:
        """Every function ``other`` computes in eval mode, this network can compute too: same family, at
        least as deep, each of ``other``'s layers at most as wide as this one's, and this one's extra layers
        at least as wide as ``other``'s last (they can pass it on unchanged: ReLU keeps non-negative
        activations)."""
        if self.family != other.family or self.depth < other.depth:
            return False
        shared, extra = self.widths[: len(other.widths)], self.widths[len(other.widths) :]
        return all(a >= b for a, b in zip(shared, other.widths, strict=True)) and all(
            a >= other.widths[-1] for a in extra
        )

    def relation(self, other: Network) -> str:
        """How ``other`` reads next to this network: "the same network (with BatchNorm)", "a shallower
        network", "a deeper network", ... (only for networks one of which contains the other)."""
        if self.contains(other) and other.contains(self):
            if self.batchnorm != other.batchnorm:
                return f"the same network {'with' if other.batchnorm else 'without'} BatchNorm"
            return "the same network"
        if self.contains(other):
            return "a shallower network" if other.depth < self.depth else "a narrower network"
        return "a deeper network" if other.depth > self.depth else "a wider network"


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def network(row: Mapping[str, Any]) -> Network:
    """The network of a runs.csv row (its ``model`` builder and ``model.*`` config).

    Keskar's F1 is the plain MLP of its widths with BatchNorm, which in eval mode is an affine map that
    folds into the layer before it: both compute the same functions. A builder without a known size
    contains only itself (same config).
    """
    builder = row["model"]
    if builder == "mlp":
        widths = tuple(int(w) for w in json.loads(row["model.hidden"]))
        return Network(("mlp",), len(widths), widths, batchnorm=False)
    if builder == "keskar_f1":
        depth = int(row["model.depth"])
        return Network(("mlp",), depth, (int(row["model.width"]),) * depth, batchnorm=True)
    if builder == "resnet_cifar":
        family = ("resnet_cifar", _flag(row["model.residual"]))
        return Network(family, int(row["model.depth"]), (int(row["model.width"]),), batchnorm=True)
    options = tuple(sorted((k, str(v)) for k, v in row.items() if k.startswith("model.")))
    return Network((builder, options), 0, (0,), batchnorm=False)
