"""docs/api.md is a runnable guide: every example on it executes, as a new user would paste it,
and prints what the page says (doctest, ELLIPSIS for figures the page leaves open)."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "api.md"


def test_every_example_in_the_api_guide_runs_and_prints_what_it_says(
    monkeypatch: pytest.MonkeyPatch, isolated_plugin_environment: None
) -> None:
    monkeypatch.setenv("BLACKWELL_DECIDE_DISABLE_ENTRYPOINTS", "1")  # the built-in catalog only
    monkeypatch.chdir(ROOT)  # the guide opens examples/ by a relative path, as from a checkout
    result = doctest.testfile(
        str(GUIDE),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        raise_on_error=False,
        verbose=False,
    )
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in docs/api.md failed (run pytest -s)"
    # bounds, speed-up, predict, interactivity, prices, cost, decide, ledger and errors all ran
    assert result.attempted >= 30
