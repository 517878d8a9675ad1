"""Hydra's refusals of a command line (unknown option, typo'd key, unparsable override) in one line.

Hydra prints these as a block that ends with its config search path. Inside `one_line_config_errors` they
read like the project's own validation instead, ``optfactors: config error: <override>: <what is wrong>``,
with exit code 2; ``HYDRA_FULL_ERROR=1`` keeps Hydra's full traceback. A multirun's jobs are composed before
any of them starts, so a bad option or key anywhere in a sweep stops it there, before any training.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import hydra._internal.utils as hydra_utils
from hydra.errors import (
    ConfigCompositionException,
    MissingConfigException,
    OverrideParseException,
    SearchPathException,
)
from omegaconf.errors import ConfigAttributeError, ConfigKeyError

from optfactors.run.config import UnknownOption

#: Hydra's refusals of what the user typed. Anything else (a run that fails) keeps Hydra's own report.
REFUSALS = (OverrideParseException, ConfigCompositionException, SearchPathException)


def _override_text(key: str, overrides: Sequence[str]) -> str:
    """The command-line override of ``key`` as typed (``key=value``), else ``key``."""
    for text in overrides:
        name, equals, _ = text.partition("=")
        if equals and name.lstrip("+~") == key:
            return text
    return key


def _no_such_key(cause: ConfigAttributeError | ConfigKeyError, overrides: Sequence[str]) -> str:
    """``optimizer.lrr=0.1: no such key; did you mean optimizer.lr?`` (else the keys that exist there)."""
    key = str(cause.full_key)
    parent = key.rpartition(".")[0]
    keys = [str(k) for k in cause.parent_node] if cause.parent_node is not None else []
    text = f"{_override_text(key, overrides)}: no such key"
    close = difflib.get_close_matches(str(cause.key), keys, n=1)
    if close:
        return f"{text}; did you mean {parent + '.' if parent else ''}{close[0]}?"
    return f"{text}; {parent or 'the top level'} has {', '.join(keys)} (+{key}=... adds a new key)"


def describe(err: Exception, overrides: Sequence[str]) -> str:
    """One line saying what is wrong with the command line, from one of Hydra's REFUSALS."""
    if isinstance(err, MissingConfigException) and err.options and err.missing_cfg_file:
        group, _, choice = err.missing_cfg_file.rpartition("/")
        return str(UnknownOption(group, choice, err.options))
    if isinstance(err, OverrideParseException):
        lines = str(err).splitlines()
        return f"{err.override}: not an override ({lines[1] if len(lines) > 1 else lines[0]})"
    cause = err.__cause__
    if isinstance(cause, ConfigAttributeError | ConfigKeyError) and cause.full_key:
        return _no_such_key(cause, overrides)
    text = str(err) if cause is None else f"{err} {str(cause).splitlines()[0]}"
    return " ".join(text.split())


@contextmanager
def one_line_config_errors(overrides: Sequence[str]) -> Iterator[None]:
    """Within: Hydra's REFUSALS of ``overrides`` (the command line) print one line and exit with code 2,
    unless ``HYDRA_FULL_ERROR=1``.

    Hydra reports errors in ``hydra._internal.utils.run_and_report`` (no public hook); this wraps it for the
    duration.
    """
    report = hydra_utils.run_and_report

    def run_and_report(func: Callable[[], Any]) -> Any:
        def translated() -> Any:
            try:
                return func()
            except REFUSALS as err:
                if os.environ.get("HYDRA_FULL_ERROR") == "1":
                    raise
                print(f"optfactors: config error: {describe(err, overrides)}", file=sys.stderr)
                sys.exit(2)

        return report(translated)

    hydra_utils.run_and_report = run_and_report
    try:
        yield
    finally:
        hydra_utils.run_and_report = report
