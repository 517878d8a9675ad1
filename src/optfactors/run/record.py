"""Run records: the run key, and the one JSON file per run, written atomically."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import lightning
import torch
from omegaconf import DictConfig, OmegaConf

from optfactors.run.atomic import atomic_path, atomic_write_text, remove_leftovers
from optfactors.run.config import KNOB_DEFAULTS
from optfactors.run.faults import set_aside
from optfactors.run.launch import group_choices
from optfactors.run.provenance import git_commit

#: Config keys that do not change what a run computes: left out of the run key.
VOLATILE_KEYS = (
    "paths",
    "logger",
    "resume",
    "checkpoint",
    "data.root",
    "problem.root",
    "trainer.enable_progress_bar",
    "profile.results_suffix",
)

STATUSES = ("ok", "diverged", "failed")
#: Statuses that are results: a sweep with ``resume`` does not run these again (a diverged run would diverge
#: again: same config, same seed).
FINAL_STATUSES = ("ok", "diverged")


def resolved_config(cfg: DictConfig) -> dict[str, Any]:
    """The run's config as plain containers, interpolations resolved, without Hydra's own node and the
    study's manifest (what the study is, not what the run does: `optfactors.manifest`)."""
    container = OmegaConf.to_container(cfg, resolve=True)
    container.pop("hydra", None)
    container.pop("study", None)
    return container


def _pop(tree: dict[str, Any], dotted: str, default: Any = None, only_default: bool = False) -> None:
    """Remove the key at ``dotted`` from ``tree`` (only if its value is ``default`` with ``only_default``)."""
    *parents, leaf = dotted.split(".")
    for part in parents:
        tree = tree.get(part)
        if not isinstance(tree, dict):
            return
    if leaf in tree and (not only_default or tree[leaf] == default and type(tree[leaf]) is type(default)):
        del tree[leaf]


def without_defaults(config: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` without the knobs at their declared default (`KNOB_DEFAULTS`, at any depth)."""
    copy = json.loads(json.dumps(config))
    for dotted, default in KNOB_DEFAULTS.items():
        _pop(copy, dotted, default, only_default=True)
    return copy


def _aliased(node: Any) -> Any:
    """``node`` with every ``_target_`` import path cut to its alias, the last dotted name
    (``optfactors.models.keskar_f1`` -> ``keskar_f1``): where the code lives is not what a run does."""
    if isinstance(node, dict):
        return {
            k: v.rsplit(".", 1)[-1] if k == "_target_" and isinstance(v, str) else _aliased(v)
            for k, v in node.items()
        }
    return [_aliased(v) for v in node] if isinstance(node, list) else node


def stable_settings(config: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` without its volatile keys and its knobs at their default."""
    stable = without_defaults(config)
    for dotted in VOLATILE_KEYS:
        _pop(stable, dotted)
    return stable


def digest(tree: Any) -> str:
    """12 hex digits of the SHA-256 of ``tree`` as canonical JSON."""
    return hashlib.sha256(json.dumps(tree, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:12]


def run_key(config: dict[str, Any]) -> str:
    """A 12-hex-digit hash of what a run does: its resolved config without volatile keys and knobs at their
    default, with ``_target_`` import paths as their aliases. Moving a module or declaring a knob with a
    default changes no key (the committed tables were re-keyed once to this definition:
    `optfactors.run.rekey`)."""
    return digest(_aliased(stable_settings(config)))


def record_path(results_dir: str | os.PathLike, experiment: str, key: str) -> Path:
    """Where the record of run ``key`` of ``experiment`` lives."""
    return Path(results_dir) / experiment / "runs" / f"{key}.json"


def checkpoint_dir(results_dir: str | os.PathLike, experiment: str, key: str) -> Path:
    """Where run ``key`` keeps its ``last.ckpt`` (not committed; kept after the run for later analysis)."""
    return Path(results_dir) / experiment / "checkpoints" / key


def finished_record(cfg: DictConfig, path: Path) -> dict[str, Any] | None:
    """With ``cfg.resume``, the record at ``path`` if its status is final (the run is not done again)."""
    done = read_record(path) if cfg.resume else None
    return done if done is not None and done["status"] in FINAL_STATUSES else None


def provenance(cfg: DictConfig, config: dict[str, Any]) -> dict[str, Any]:
    """What every record carries besides its results: versions, git commit, when it was written (UTC), output
    folder, choices, config."""
    return {
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "lightning": lightning.__version__,
        },
        "git_commit": git_commit(),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "output_dir": cfg.paths.output,
        "choices": group_choices(),
        "config": config,
    }


def write_traceback(path: Path) -> None:
    """Save the exception being handled as ``<record>.traceback.txt`` beside the record at ``path``."""
    atomic_write_text(path.with_suffix(".traceback.txt"), traceback.format_exc())


def parse_record(path: Path) -> dict[str, Any]:
    """The record at ``path``; ValueError if the file is not one (cut short, garbled)."""
    record = json.loads(path.read_text())
    if not isinstance(record, dict) or record.get("status") not in STATUSES:
        raise ValueError("not a run record")
    return record


def read_record(path: str | os.PathLike) -> dict[str, Any] | None:
    """The record at ``path``, or None if there is none; an unreadable one is set aside (``.corrupt``) with
    one warning line, and its run counts as not done."""
    path = Path(path)
    try:
        return parse_record(path)
    except FileNotFoundError:
        return None
    except ValueError as err:  # JSONDecodeError, UnicodeDecodeError, not a record
        set_aside(path, err, "the run will be done again")
        return None


def write_json_atomic(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` through `atomic_path`: never half a file (and no leftovers of a
    writer killed before)."""
    remove_leftovers(path)
    with atomic_path(path) as tmp, tmp.open("w") as file:
        json.dump(data, file, indent=1, allow_nan=True)
