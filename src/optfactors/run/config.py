"""Validation of a resolved run config: each bad value is one ConfigError (key, value, what is allowed).

Hydra already rejects unknown config-group options and, in struct mode, typo'd keys
(optfactors.run.hydra_errors puts those in one line too); this module checks the values, and the choices
of ``optional`` groups, which Hydra lets pass. It runs before any data is loaded or model built.
"""

from __future__ import annotations

import difflib
import inspect
import math
from collections.abc import Mapping, Sequence
from numbers import Real
from pathlib import Path
from typing import Any

from hydra.utils import get_object

from optfactors.data import DATASETS, num_batches
from optfactors.task import BN_EVAL_MODES

#: Knobs declared after runs were recorded, by dotted path (any depth), with their defaults. At its default a
#: knob is left out of a run's settings (key, record, runs.csv row), like the runs from before it was
#: declared, which lack it: a new knob goes here with the default that keeps today's behaviour.
KNOB_DEFAULTS = {"compile": False, "channels_last": False, "track_grad_norm": False}


class ConfigError(ValueError):
    """A config value that cannot work."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        super().__init__(f"{key}={value!r}: {allowed}")
        self.key, self.value, self.allowed = key, value, allowed


class UnknownOption(ConfigError):
    """A config-group choice with no config file: ``optimizer=adamx: no such option; choose one of ...``."""

    def __init__(self, group: str, choice: str, options: Sequence[str]) -> None:
        close = difflib.get_close_matches(choice, options, n=2, cutoff=0.6)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        super().__init__(group, choice, f"no such option; {hint}choose one of {', '.join(options)}")

    def __str__(self) -> str:
        return f"{self.key}={self.value}: {self.allowed}"


def group_options(conf_dir: Path, group: str) -> list[str]:
    """The options of config group ``group``: the names of ``conf_dir/<group>/*.yaml``."""
    return sorted(p.stem for p in (conf_dir / group).glob("*.yaml"))


def check_choices(choices: Mapping[str, str | None], conf_dir: Path) -> None:
    """Raise UnknownOption for a group choice (Hydra's ``runtime.choices``) without a config file in
    ``conf_dir``. Hydra refuses those itself, except in ``optional`` groups (experiment, setting, problem),
    where a typo would silently select nothing."""
    for name, choice in choices.items():
        group = name.partition("@")[0]
        if choice is None or group.startswith("hydra/") or not (conf_dir / group).is_dir():
            continue
        if not (conf_dir / group / f"{choice}.yaml").is_file():
            raise UnknownOption(group, choice, group_options(conf_dir, group))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _require(ok: bool, key: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(key, value, allowed)


def processes(trainer: dict[str, Any]) -> int | None:
    """Number of training processes the trainer config asks for, if it says so explicitly."""
    devices, nodes = trainer.get("devices", 1), trainer.get("num_nodes", 1)
    if _is_int(devices) and _is_int(nodes):
        return devices * nodes
    if isinstance(devices, list | tuple) and _is_int(nodes):
        return len(devices) * nodes
    return None


def train_size(data: dict[str, Any]) -> int:
    """Number of training samples the data config yields (subset, or the train split minus validation)."""
    return data["subset"] if data.get("subset") is not None else DATASETS[data["name"]][1] - data["val_size"]


def image_shape(name: str) -> list[int]:
    """(C, H, W) of one image of dataset ``name``."""
    shape = DATASETS[name][0]
    return [1, *shape] if len(shape) == 2 else [shape[2], shape[0], shape[1]]


def needs_run_length(target: str) -> bool:
    """Whether the schedule ``target`` names has a ``total_steps`` parameter without a default."""
    parameter = inspect.signature(get_object(target)).parameters.get("total_steps")
    return parameter is not None and parameter.default is inspect.Parameter.empty


def validate(config: dict[str, Any]) -> None:
    """Raise ConfigError for the first bad value of a resolved run config."""
    data, trainer = config["data"], config["trainer"]
    _require(data["name"] in DATASETS, "data.name", data["name"], f"one of {', '.join(DATASETS)}")
    _require(
        list(data["input_shape"]) == image_shape(data["name"]),
        "data.input_shape",
        data["input_shape"],
        f"{image_shape(data['name'])}, the (C, H, W) of {data['name']} images",
    )
    n_train_split = DATASETS[data["name"]][1]
    val_size = data["val_size"]
    _require(
        _is_int(val_size) and 0 <= val_size < n_train_split,
        "data.val_size",
        val_size,
        f"an integer from 0 to {n_train_split - 1}",
    )
    subset = data.get("subset")
    available = n_train_split - val_size
    _require(
        subset is None or (_is_int(subset) and 1 <= subset <= available),
        "data.subset",
        subset,
        f"null or an integer from 1 to {available} (the {data['name']} training samples left after "
        f"data.val_size={val_size})",
    )
    n = train_size(data)
    batch = data["batch_size"]
    _require(
        _is_int(batch) and 1 <= batch <= n,
        "data.batch_size",
        batch,
        f"an integer from 1 to {n} (the number of training samples)",
    )
    _require(
        _is_int(data["eval_batch_size"]) and data["eval_batch_size"] >= 1,
        "data.eval_batch_size",
        data["eval_batch_size"],
        "a positive integer",
    )
    nproc = processes(trainer)
    _require(
        nproc is None or batch % nproc == 0,
        "data.batch_size",
        batch,
        f"the global batch must be divisible by the {nproc} training processes (devices x num_nodes)",
    )

    optimizer = config["optimizer"]
    lr = optimizer.get("lr")
    _require(_is_number(lr) and lr > 0, "optimizer.lr", lr, "a positive number")
    if "momentum" in optimizer:
        m = optimizer["momentum"]
        _require(_is_number(m) and 0 <= m < 1, "optimizer.momentum", m, "a number in [0, 1)")
        _require(not optimizer.get("nesterov") or m > 0, "optimizer.momentum", m, "> 0 with nesterov: true")

    for switch in ("compile", "channels_last", "track_grad_norm"):
        value = config.get(switch, KNOB_DEFAULTS[switch])
        _require(isinstance(value, bool), switch, value, "true or false")
    _require(
        config["bn_eval"] in BN_EVAL_MODES, "bn_eval", config["bn_eval"], f"one of {', '.join(BN_EVAL_MODES)}"
    )
    stop = config.get("early_stopping")
    if stop:
        monitors = [f"{split}/{m}" for split in ("train", "val") for m in ("loss", "acc")]
        _require(
            stop.get("monitor") in monitors,
            "early_stopping.monitor",
            stop.get("monitor"),
            f"one of {', '.join(monitors)}",
        )
        _require(
            stop.get("monitor", "").startswith("train") or data["val_size"] > 0,
            "early_stopping.monitor",
            stop["monitor"],
            "a train/ metric when data.val_size=0",
        )
        _require(
            _is_int(stop.get("patience")) and stop["patience"] >= 1,
            "early_stopping.patience",
            stop.get("patience"),
            "a positive integer",
        )
        _require(
            _is_number(stop.get("min_delta")) and stop["min_delta"] >= 0,
            "early_stopping.min_delta",
            stop.get("min_delta"),
            "a number >= 0",
        )
        _require(
            stop.get("target") is None or _is_number(stop["target"]),
            "early_stopping.target",
            stop.get("target"),
            "null or a number (stop as soon as the monitored metric reaches it)",
        )

    epochs, max_steps = trainer.get("max_epochs"), trainer.get("max_steps", -1)
    _require(
        _is_int(max_steps) and (max_steps == -1 or max_steps >= 1),
        "trainer.max_steps",
        max_steps,
        "-1 (no limit) or a positive integer",
    )
    # No limit at all (both -1) only with a stopping rule that must end: every improvement lowers the best
    # loss or raises the best accuracy by more than min_delta, and both are bounded.
    ends = bool(stop) and stop["min_delta"] > 0
    _require(
        _is_int(epochs) and (epochs >= 1 or (epochs == -1 and (max_steps >= 1 or ends))),
        "trainer.max_epochs",
        epochs,
        "a positive integer, or -1 with trainer.max_steps set or an early_stopping rule with min_delta > 0",
    )
    interval = config["scheduler"]["interval"]
    _require(interval in ("step", "epoch"), "scheduler.interval", interval, "'step' or 'epoch'")
    _require(
        interval == "step" or epochs >= 1,
        "trainer.max_epochs",
        epochs,
        "a positive integer with a per-epoch schedule",
    )
    schedule = config["scheduler"]["schedule"]
    if epochs == -1 and max_steps == -1:  # no length: the stopping rule ends the run
        _require(
            not needs_run_length(schedule["_target_"]),
            "scheduler.schedule._target_",
            schedule["_target_"],
            "a schedule without a required total_steps: the run has no length (trainer.max_epochs and "
            "max_steps are -1; only early stopping ends it)",
        )
        return
    per_epoch = num_batches(n, batch, data.get("drop_last", False), nproc or 1)
    steps = per_epoch * epochs if epochs >= 1 else max_steps
    if max_steps >= 1:
        steps = min(steps, max_steps)
    total = epochs if interval == "epoch" else steps
    warmup = schedule.get("warmup_steps")
    if warmup is not None:
        _require(
            _is_int(warmup) and 1 <= warmup <= total,
            "scheduler.schedule.warmup_steps",
            warmup,
            f"an integer from 1 to {total}, the {interval}s of the whole run",
        )
