"""The installed distribution's version, from its metadata (pyproject.toml is the one place it is
written). A source tree that was never installed reports ``0+unknown``."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("blackwell-decide")
except metadata.PackageNotFoundError:  # pragma: no cover - only in an uninstalled checkout
    __version__ = "0+unknown"

__all__ = ["__version__"]
