"""How a run's method reads in tables and W&B: optimizer, schedule and loss names from its config."""

from __future__ import annotations

from typing import Any

#: How a loss class reads in the tables (others: the class name, lower case).
LOSS_NAMES = {"CrossEntropyLoss": "cross_entropy", "SoftmaxMSELoss": "mse"}


def _short(target: str) -> str:
    return target.rsplit(".", 1)[-1]


def optimizer_name(optimizer: dict[str, Any]) -> str:
    """The optimizer as the lecture names it, from its config: sgd, momentum, nesterov, adagrad, adam, ..."""
    name = _short(optimizer["_target_"]).lower()
    if name == "sgd" and optimizer.get("momentum"):
        return "nesterov" if optimizer.get("nesterov") else "momentum"
    return name


def method_columns(config: dict[str, Any]) -> dict[str, str]:
    """optimizer, schedule and loss names of a run, read from its config (not from Hydra's choices, so runs
    started through the Python API are named the same way)."""
    schedule = config.get("scheduler", {}).get("schedule", {}).get("_target_", "")
    loss = _short(config.get("loss", {}).get("_target_", ""))
    return {
        "optimizer": optimizer_name(config["optimizer"]) if "optimizer" in config else "",
        "schedule": _short(schedule),
        "loss": LOSS_NAMES.get(loss, loss.lower()),
    }
