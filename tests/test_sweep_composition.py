"""No silent sweep edits: for every experiment and profile, the sweep Hydra composes is the one its files
list, a profile file's parameters replacing its experiment body's (docs/paper_protocols.md, "Composition
order")."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from optfactors import CONF_DIR

EXPERIMENT_DIR = CONF_DIR / "experiment"
EXPERIMENTS = sorted(p.stem for p in EXPERIMENT_DIR.glob("*.yaml"))
PROFILES = sorted(p.stem for p in (CONF_DIR / "profile").glob("*.yaml"))
PROFILE_ENTRY = "${profile}"


def defaults(name: str) -> list:
    """The defaults list of experiments/<name>.yaml as written."""
    return list(OmegaConf.to_container(OmegaConf.load(EXPERIMENT_DIR / f"{name}.yaml")).get("defaults", []))


def listed_sweep(path: Path) -> dict[str, str]:
    """The ``hydra.sweeper.params`` a config file lists itself (none if the file does not exist)."""
    if not path.is_file():
        return {}
    params = OmegaConf.select(OmegaConf.load(path), "hydra.sweeper.params") or {}
    return {str(key): str(value) for key, value in params.items()}


def parents(name: str) -> list[str]:
    """The experiments whose files ``name`` includes (plain entries of its defaults list)."""
    return [d for d in defaults(name) if isinstance(d, str) and (EXPERIMENT_DIR / f"{d}.yaml").is_file()]


def expected_sweep(name: str, profile: str) -> dict[str, str]:
    """The sweep by the rule: included experiments' sweeps, then the body's parameters, then the profile
    file's (experiments/<name>/<profile>.yaml); a later file's value of a parameter replaces an earlier's."""
    sweep: dict[str, str] = {}
    for parent in parents(name):
        sweep |= expected_sweep(parent, profile)
    body = listed_sweep(EXPERIMENT_DIR / f"{name}.yaml")
    return sweep | body | listed_sweep(EXPERIMENT_DIR / name / f"{profile}.yaml")


def composed_sweep(name: str, profile: str) -> dict[str, str]:
    """The ``hydra.sweeper.params`` Hydra composes for ``experiment=name profile=profile``."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            "config", overrides=[f"experiment={name}", f"profile={profile}"], return_hydra_config=True
        )
    return {str(key): str(value) for key, value in (cfg.hydra.sweeper.params or {}).items()}


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_the_composed_sweep_is_the_one_the_files_list(name: str, profile: str) -> None:
    assert composed_sweep(name, profile) == expected_sweep(name, profile)


def _entries(name: str) -> list[str]:
    """The defaults entries of experiments/<name>.yaml as strings: ``_self_``, ``x@_global_=${profile}``."""
    return [d if isinstance(d, str) else "=".join(*d.items()) for d in defaults(name)]


@pytest.mark.parametrize("name", [n for n in EXPERIMENTS if f"{n}@_global_={PROFILE_ENTRY}" in _entries(n)])
def test_an_experiment_body_is_composed_before_its_profile_file(name: str) -> None:
    entries = _entries(name)
    assert "_self_" in entries
    assert entries.index("_self_") < entries.index(f"{name}@_global_={PROFILE_ENTRY}")


def test_the_remedies_paper_sweep_runs_sam_at_every_rho_its_profile_lists() -> None:
    remedies = composed_sweep("large_batch_remedies", "paper")["+remedy"].split(",")
    assert {"sam", "sam_small_rho", "sam_large_rho"} <= set(remedies) and len(remedies) == 10
