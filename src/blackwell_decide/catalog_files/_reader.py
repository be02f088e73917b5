"""The shared part of the catalog loaders: their errors, and reading one file (from a path or
an installed package) into a :class:`~blackwell_decide.input_schema.Table` whose problems are
collected on one :class:`~blackwell_decide.input_schema.TableReader` and raised together."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from importlib.resources.abc import Traversable
from typing import Any, TypeVar

from blackwell_decide import input_files
from blackwell_decide.errors import CatalogError, UsageError
from blackwell_decide.input_schema import Table, TableReader

T = TypeVar("T")

CatalogPath = str | os.PathLike[str] | Traversable
"""A file system path, or a file inside an installed package (``importlib.resources``)."""


class CatalogFileError(CatalogError):
    """A catalog data file (built-in or a plugin's) has one or more problems."""

    def __init__(self, path: str, problems: Iterable[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        super().__init__(report(path, self.problems, "catalog data file"))


class PriceFileError(UsageError):
    """A user's price file has one or more problems; ``problems`` lists each with its key path."""

    def __init__(self, path: str, problems: Iterable[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        super().__init__(report(path, self.problems, "price file"))


def report(path: str, problems: Sequence[str], what: str) -> str:
    lines = "\n".join(f"  - {p}" for p in problems)
    return f"{path}: {len(problems)} problem(s) in this {what}:\n{lines}"


def file_name(path: CatalogPath) -> str:
    return os.fspath(path) if isinstance(path, str | os.PathLike) else str(path)


def read_file(path: CatalogPath) -> tuple[str, dict[str, Any] | None, str | None]:
    name = file_name(path)
    try:
        if isinstance(path, str | os.PathLike):
            raw = input_files.read_bytes(path)
        else:  # a file inside an installed package
            try:
                raw = path.read_bytes()
            except OSError as exc:
                return name, None, f"cannot be read ({exc.strerror or exc}); check the path"
        return name, input_files.parse_toml(name, input_files.decode(name, raw)), None
    except input_files.InputFileError as exc:
        return name, None, exc.problem


def load(
    path: CatalogPath,
    parse: Callable[[Table, TableReader], list[T]],
    error: Callable[[str, Iterable[str]], Exception],
) -> list[T]:
    name, data, unreadable = read_file(path)
    if data is None:
        raise error(name, [f"the file {unreadable}"])
    problems = TableReader({})
    items = parse(Table(data, "", problems), problems)
    if problems:
        raise error(name, problems.problems)
    return items
