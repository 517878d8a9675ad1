"""No study chooses anything on the test split: a best learning rate, schedule or setting is picked on
validation (or training) metrics, and test metrics are only reported. A static check of every study
package: a line that picks (max/min, idxmax/idxmin, nlargest/nsmallest, sort_values, argmax/argmin) on a
test_* column fails."""

from __future__ import annotations

import re
from pathlib import Path

import optfactors.studies

PICK = r"(idxmax|idxmin|nlargest|nsmallest|sort_values|argmax|argmin|\.max\(|\.min\()"
TEST_COLUMN = r"test_(acc|loss)"
PICKS_ON_TEST = re.compile(rf"{TEST_COLUMN}.*{PICK}|{PICK}.*{TEST_COLUMN}")


def picks_on_test(source: str) -> list[str]:
    """The lines of ``source`` that pick on a test_* column."""
    return [line.strip() for line in source.splitlines() if PICKS_ON_TEST.search(line)]


def test_the_check_catches_a_pick_on_test_and_passes_one_on_validation():
    assert picks_on_test('adam = best.loc["adam"]["test_acc"].max()')
    assert picks_on_test('best = runs.sort_values("test_loss").iloc[0]')
    assert not picks_on_test('best = runs.loc[runs["val_acc"].idxmax()]\nshown = best["test_acc"]')


def test_no_study_picks_a_setting_on_the_test_split():
    root = Path(optfactors.studies.__file__).parent
    found = {
        str(path.relative_to(root)): lines
        for path in sorted(root.rglob("*.py"))
        if (lines := picks_on_test(path.read_text()))
    }
    assert not found, found
