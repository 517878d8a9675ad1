"""The command line: Hydra's refusals (unknown option, typo'd key) answer in one line with exit code 2, like
the project's own validation; ``HYDRA_FULL_ERROR=1`` keeps the traceback. Every case fails before training.

Each end-to-end case starts Python, torch and Lightning (~8 s): by default one refusal runs that way and every
refusal's line is also checked in this process; ``make test-all`` runs every case end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import hydra._internal.utils as hydra_utils
import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException

from optfactors import CONF_DIR
from optfactors.run.config import UnknownOption, check_choices, group_options
from optfactors.run.hydra_errors import describe, one_line_config_errors


def optfactors(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m optfactors ARGS`` with this environment's Python (what the console script runs)."""
    return subprocess.run(
        [sys.executable, "-m", "optfactors", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OPTFACTORS_PROGRESS_BAR": "false", **(env or {})},
    )


def options(group: str) -> str:
    return ", ".join(group_options(CONF_DIR, group))


REFUSED = [
    (
        "optimizer=adamx",
        "no such option; did you mean adam or adamw? choose one of adagrad, adam, adamw, lamb, lars, "
        "momentum, nesterov, rmsprop, sam, sgd",
    ),
    ("data=imagenet", "no such option; choose one of cifar10, mnist"),
    ("model=resnet9000", f"no such option; choose one of {options('model')}"),
    ("loss=hinge", "no such option; choose one of cross_entropy, mse"),
    ("optimizer.lrr=0.1", "no such key; did you mean optimizer.lr?"),
    ("trainer.max_epoch=3", "no such key; did you mean trainer.max_epochs?"),
    # `experiment` is an optional group: Hydra itself would silently run the default config
    ("experiment=nope", f"no such option; choose one of {options('experiment')}"),
    ("experiment=keskar", f"no such option; did you mean keskar_gap? choose one of {options('experiment')}"),
]


#: The refusal run end to end by default (the others: `make test-all`; all of them in process below).
END_TO_END = "optimizer=adamx"


@pytest.mark.parametrize(
    ("override", "message"),
    [pytest.param(o, m, id=o, marks=() if o == END_TO_END else pytest.mark.slow) for o, m in REFUSED],
)
def test_a_bad_option_or_key_is_one_line_and_exit_code_2(tmp_path: Path, override: str, message: str):
    result = optfactors(override, f"hydra.run.dir={tmp_path}/out", f"paths.results={tmp_path}/results")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"optfactors: config error: {override}: {message}"]
    assert not (tmp_path / "results").exists()


def test_a_bad_option_in_a_sweep_stops_it_before_any_run(tmp_path: Path):
    result = optfactors(
        "-m", "optimizer=sgd,adamx", f"hydra.sweep.dir={tmp_path}/s", f"paths.results={tmp_path}/r"
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"optfactors: config error: optimizer=adamx: {REFUSED[0][1]}"
    ]
    assert not (tmp_path / "s" / "0").exists() and not (tmp_path / "r").exists()


@pytest.mark.slow  # in process: test_each_refusal_reads_as_one_line; invalid runs in a sweep: test_sweeps.py
def test_a_bad_optional_group_choice_in_a_sweep_is_an_invalid_run(tmp_path: Path):
    result = optfactors(
        "-m", "experiment=nope", f"hydra.sweep.dir={tmp_path}/s", f"paths.results={tmp_path}/r"
    )
    assert result.returncode == 1
    line = f"  invalid: (no run key): config error: experiment=nope: {REFUSED[-1][1]}"
    assert line in result.stderr.splitlines()


@pytest.mark.slow  # in process: test_hydra_full_error_lets_the_refusal_through
def test_hydra_full_error_keeps_the_traceback(tmp_path: Path):
    result = optfactors("optimizer=adamx", f"hydra.run.dir={tmp_path}/out", env={"HYDRA_FULL_ERROR": "1"})
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "MissingConfigException: In 'config': Could not find 'optimizer/adamx'" in result.stderr
    assert "optfactors: config error" not in result.stderr


def test_help_is_short_and_names_the_commands_and_the_studies():
    result = optfactors("--help")
    assert result.returncode == 0 and len(result.stdout.splitlines()) < 45
    for word in ("run", "collect", "figures", "report", "verify", "diagnose", "new-study", "keskar_gap"):
        assert f" {word}" in result.stdout


def test_an_unknown_command_suggests_the_closest():
    result = optfactors("colect", "quickstart")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "optfactors: unknown command 'colect': did you mean collect? (optfactors --help lists them)"
    )


def test_run_help_still_lists_the_config_groups():
    result = optfactors("run", "--help")
    assert result.returncode == 0
    for line in (  # as in test_train.py's test of the console script (slow: the same start-up again)
        "optimizer: adagrad, adam, adamw, lamb, lars, momentum, nesterov, rmsprop, sam, sgd",
        "scheduler: constant, cosine, exponential, inverse_sqrt, step, warmup_constant, warmup_cosine",
        "model: keskar_c1, keskar_c2, keskar_f1, lenet5, mlp",
        "data: cifar10, mnist",
        "loss: cross_entropy, mse",
    ):
        assert line in result.stdout


def _refusal(*overrides: str) -> Exception:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        try:
            compose("config", overrides=list(overrides))
        except Exception as err:
            return err
    raise AssertionError(f"{overrides} composed")


@pytest.mark.parametrize(("override", "message"), REFUSED, ids=[o for o, _ in REFUSED])
def test_each_refusal_reads_as_one_line(override: str, message: str):
    """The line of each end-to-end case above, from the same code in this process (no start-up)."""
    if override.startswith("experiment="):  # an optional group: Hydra composes it, the run refuses it
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose("config", overrides=[override], return_hydra_config=True)
        with pytest.raises(UnknownOption) as err:
            check_choices(cfg.hydra.runtime.choices, CONF_DIR)
        assert str(err.value) == f"{override}: {message}"
    else:
        assert describe(_refusal(override), [override]) == f"{override}: {message}"


def test_hydra_full_error_lets_the_refusal_through(monkeypatch: pytest.MonkeyPatch, capsys):
    """In process, what test_hydra_full_error_keeps_the_traceback checks end to end: Hydra's own exception
    (which Python prints as a traceback), not the one-line refusal."""
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")

    def compose_adamx() -> None:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            compose("config", overrides=["optimizer=adamx"])

    with one_line_config_errors(["optimizer=adamx"]), pytest.raises(MissingConfigException) as err:
        hydra_utils.run_and_report(compose_adamx)
    assert "In 'config': Could not find 'optimizer/adamx'" in str(err.value)
    assert "optfactors: config error" not in capsys.readouterr().err


def test_unparsable_overrides_and_keys_without_a_near_match_read_in_one_line():
    err = _refusal("optimizer=adam=")
    assert isinstance(err, OverrideParseException)
    assert (
        describe(err, ["optimizer=adam="])
        == "optimizer=adam=: not an override (extraneous input '=' expecting <EOF>)"
    )
    err = _refusal("optimizer.zzz=1")
    assert isinstance(err, ConfigCompositionException)
    assert describe(err, ["optimizer.zzz=1"]) == (
        "optimizer.zzz=1: no such key; optimizer has _target_, _partial_, lr, momentum, weight_decay "
        "(+optimizer.zzz=... adds a new key)"
    )
    assert (
        describe(_refusal("optimzer=adam"), ["optimzer=adam"])
        == "optimzer=adam: no such key; did you mean optimizer?"
    )


def test_a_study_without_m_is_refused_with_the_commands_and_leaves_no_folder(tmp_path):
    """`optfactors experiment=<study>` would train the defaults under the study's name: refused, with the
    command for the study and one for one of its runs; a refused run leaves no folder behind."""
    result = subprocess.run(
        [sys.executable, "-m", "optfactors", "experiment=keskar_gap", "seed=1"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "OPTFACTORS_PROGRESS_BAR": "false"},
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "optfactors: config error: experiment='keskar_gap': a sweep over setting, regime: run the study with "
        "`optfactors run -m experiment=keskar_gap`, or one of its runs with "
        "`optfactors run experiment=keskar_gap seed=1 setting=mnist_f1_sgd regime=sb`"
    )
    assert list(tmp_path.iterdir()) == []
