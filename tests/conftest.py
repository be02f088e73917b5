"""Shared fixtures. Tests never read ../shared and never touch the network."""

from __future__ import annotations

import pytest

from blackwell_decide.plugins import Catalog, get_catalog


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return get_catalog()
