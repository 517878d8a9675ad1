"""One package a study, named exactly like its experiment (``experiments/<name>.yaml``), holding what reads
its tables: ``claims.py`` (verdicts), ``tables.py`` (summary tables and the quantities its claims and figures
share) and ``figures.py``. The report finds them by discovery; shared helpers live in `common`.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

from optfactors.manifest import ManifestError, manifests

#: What a study package may hold, each discovered on its own (deciding a claim imports no plotting code).
PARTS = ("claims", "tables", "figures")


def packages() -> list[str]:
    """Every study package, by name; one named like no experiment is a ManifestError."""
    found = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg)
    orphans = sorted(set(found) - set(manifests()))
    if orphans:
        raise ManifestError(
            f"study package optfactors.studies.{orphans[0]} names no experiment in experiments/"
        )
    return found


def discover(part: str) -> list[str]:
    """Import ``optfactors.studies.<study>.<part>`` of every study package that has one (they register their
    claims, tables or figures); return the modules imported."""
    if part not in PARTS:
        raise ValueError(f"a study package holds {', '.join(PARTS)}, not {part!r}")
    modules = [f"{__name__}.{study}.{part}" for study in packages()]
    modules = [m for m in modules if importlib.util.find_spec(m) is not None]
    for module in modules:
        importlib.import_module(module)
    return modules


def study_of(module: str) -> str:
    """The study a registering module belongs to: ``optfactors.studies.<study>.<part>`` -> ``<study>``."""
    parts = module.split(".")
    if parts[:2] != ["optfactors", "studies"] or len(parts) < 4:
        raise ValueError(
            f"{module}: claims, tables and figures are registered from optfactors.studies.<study>"
        )
    return parts[2]
