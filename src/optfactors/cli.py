"""The console script ``optfactors``: one command with subcommands. Without one, the arguments are a run's
Hydra overrides (``optfactors key=value`` is ``optfactors run key=value``, as before subcommands existed).

Hydra's refusals of the command line (unknown option, typo'd key) answer in one line with exit code 2,
like the project's own validation (`optfactors.run.hydra_errors`).
"""

from __future__ import annotations

import difflib
import importlib
import sys

#: Subcommand -> (module whose ``main(argv)`` it runs, what it does).
COMMANDS = {
    "run": ("optfactors.run.entry", "one run, or a sweep with -m (Hydra overrides; `run --help`: config)"),
    "collect": ("optfactors.report.collect", "a study's run records -> results/<study>/runs.csv, curves.csv"),
    "figures": ("optfactors.report.figures", "every summary table and figure whose study has tables"),
    "report": ("optfactors.report.markdown", "every claim checked against the tables -> results/REPORT.md"),
    "publish": ("optfactors.dashboards.wandb_report", "one W&B report run per study (online when logged in)"),
    "verify": ("optfactors.verify", "rerun the short quick profiles; fail if a committed result moved"),
    "bench": ("optfactors.bench.__main__", "the benchmarks -> results/bench/ (a quiet machine, please)"),
    "dashboard": ("optfactors.dashboards.__main__", "per study, a W&B dashboard (offline: its spec)"),
    "diagnose": ("optfactors.diagnose", "what the lecture concludes about each run of a study"),
    "studies": ("optfactors.manifest", "the studies, by their manifests in experiments/"),
    "new-study": ("optfactors.scaffold", "a new study: manifest, profiles, package, test"),
}

EXAMPLES = """\
examples:
  optfactors run -m experiment=quickstart          # a whole study (85 s), then:
  optfactors collect quickstart && optfactors figures && optfactors report
  optfactors run data=cifar10 model=keskar_c1 data.subset=2000 trainer.max_epochs=1
  optfactors run --cfg job experiment=keskar_gap   # the composed config, without running
  optfactors diagnose stuck                        # why each run of a study trained as it did
  make sweep EXP="keskar_gap sharp_flat"           # run, collect, draw and report in one go"""


def usage() -> str:
    """The short help: commands, examples, the studies."""
    from optfactors.manifest import studies

    width = max(map(len, COMMANDS))
    commands = [f"  {name:<{width}}  {what}" for name, (_, what) in COMMANDS.items()]
    names = [s.name for s in studies()]
    listed = [f"  {'  '.join(names[i : i + 5])}" for i in range(0, len(names), 5)]
    return "\n".join(
        [
            "usage: optfactors COMMAND [ARGS ...]    (optfactors COMMAND --help for its options)",
            "",
            "Reproduce the lecture 'many factors affecting optimization' on MNIST and CIFAR-10.",
            "",
            "commands:",
            *commands,
            "",
            EXAMPLES,
            "",
            "studies (optfactors run -m experiment=NAME; results/NAME/, results/REPORT.md):",
            *listed,
        ]
    )


def run(args: list[str]) -> None:
    """One run or a sweep through Hydra, its refusals of the command line in one line."""
    from optfactors.run.entry import main as entry  # torch and Lightning: seconds, so only when running
    from optfactors.run.hydra_errors import one_line_config_errors

    sys.argv = [sys.argv[0], *args]  # Lightning's DDP starts its other ranks with this command line again
    with one_line_config_errors(args):
        entry()


def main() -> None:
    """Dispatch ``optfactors COMMAND ...``; bare Hydra overrides are a run."""
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return
    command, rest = args[0], args[1:]
    if command not in COMMANDS and not command.startswith("-") and "=" not in command:
        close = difflib.get_close_matches(command, COMMANDS, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        print(
            f"optfactors: unknown command {command!r}: {hint}(optfactors --help lists them)", file=sys.stderr
        )
        sys.exit(2)
    if command == "run" or command not in COMMANDS:
        run(rest if command == "run" else args)
        return
    module = importlib.import_module(COMMANDS[command][0])
    sys.argv = [f"optfactors {command}", *rest]
    sys.exit(module.main(rest) or 0)
