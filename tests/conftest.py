"""Shared fixtures. Tests never read ../shared and never touch the network."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from blackwell_decide.plugins import DISABLE_ENTRYPOINTS_ENV, STRICT_ENV, Catalog, get_catalog, reset_catalog

PRIVATE_RATES_ENV = "BLACKWELL_DECIDE_PRIVATE_RATES"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return get_catalog()


@pytest.fixture
def isolated_plugin_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No strict mode, entry points on, no private-rates file from the developer's machine, and a
    catalog built afresh before and after the test."""
    for name in (STRICT_ENV, DISABLE_ENTRYPOINTS_ENV, PRIVATE_RATES_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    reset_catalog()
    yield
    reset_catalog()
