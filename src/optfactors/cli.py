"""The console script ``optfactors``: ``optfactors diagnose ...``, else one run or a sweep through Hydra.

Hydra's refusals of the command line (unknown option, typo'd key) answer in one line with exit code 2,
like the project's own validation (`optfactors.run.hydra_errors`).
"""

from __future__ import annotations

import sys

from optfactors import diagnose


def main() -> None:
    """Dispatch ``diagnose`` to `optfactors.diagnose.main`; else `optfactors.stages.train`."""
    args = sys.argv[1:]
    if args[:1] == ["diagnose"]:
        sys.exit(diagnose.main(args[1:]))
    from optfactors.run.hydra_errors import one_line_config_errors
    from optfactors.stages.train import main as run  # torch and Lightning: seconds, so only when training

    with one_line_config_errors(args):
        run()
