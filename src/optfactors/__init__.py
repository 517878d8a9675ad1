"""optfactors: reproducible experiments on the many factors affecting neural-network optimization."""

from pathlib import Path

__version__ = "0.1.0"

#: The Hydra config directory, shipped inside the package: a wheel holds a copy; in the repository
#: src/optfactors/conf is a symlink to the top-level conf/ (whose experiment/ links experiments/).
CONF_DIR = (Path(__file__).parent / "conf").resolve()
