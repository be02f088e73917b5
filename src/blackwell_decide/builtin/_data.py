"""Where the built-in catalog data files live inside the installed package.

The files sit under ``blackwell_decide/builtin/data`` and ship in the wheel; they are found with
:mod:`importlib.resources`, so they are read the same way from a source checkout, an editable
install or a zipped wheel.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

_ROOT = "blackwell_decide.builtin"


def data_file(*parts: str) -> Traversable:
    """One data file, e.g. ``data_file("formats.toml")``."""
    return files(_ROOT).joinpath("data", *parts)


def data_files(folder: str, suffix: str = ".toml") -> list[Traversable]:
    """The data files in ``data/<folder>``, in name order, so registration order is stable."""
    directory = files(_ROOT).joinpath("data", folder)
    return sorted((f for f in directory.iterdir() if f.is_file() and f.name.endswith(suffix)), key=lambda f: f.name)
