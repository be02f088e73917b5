"""The cells of a measurement CSV: read as text, checked by the shared value rules
(:func:`~blackwell_decide.input_schema.checked_number`), every bad cell of every row recorded on
the shared validating reader so that one error names them all (``row 3, column 'tpot_ms': ...``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from blackwell_decide.errors import UsageError
from blackwell_decide.input_schema import NumberRule, TableReader, ValueProblem, checked_number

#: Counts (concurrency, TP, lengths) and figures (latencies, rates), written as text.
#: Upper limits as the value classes have them (model.validators: 1e9 tokens in a request; a
#: latency in ms or a rate past 1e12 is a corrupt cell): concurrency 1e308 made the fit NaN.
_COUNT = NumberRule(minimum=1, maximum=1e9, whole=True, numeric_text=True)
_FIGURE = NumberRule(positive=True, maximum=1e12, numeric_text=True)


class CellError(UsageError):
    """One bad cell: where it is (row and column) and what is wrong with it."""

    def __init__(self, row: int, column: str, problem: str) -> None:
        self.where, self.problem = f"row {row}, column {column!r}", problem
        super().__init__(f"{self.where}: {problem}")


class RowError(UsageError):
    """Every bad cell of one row."""

    def __init__(self, cells: Sequence[CellError]) -> None:
        self.cells = tuple(cells)
        super().__init__("; ".join(str(cell) for cell in self.cells))


def read_cells(reads: Mapping[str, Callable[[], Any]]) -> dict[str, Any]:
    """Each column's value, read in order; a bad cell does not stop the others being read, and
    :class:`RowError` names them all."""
    values: dict[str, Any] = {}
    bad: list[CellError] = []
    for column, read in reads.items():
        try:
            values[column] = read()
        except CellError as exc:
            bad.append(exc)
    if bad:
        raise RowError(bad)
    return values


class Problems:
    """Every bad row of one measurement file, recorded on the shared validating reader
    (:class:`~blackwell_decide.input_schema.TableReader`) so that one error lists them all."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self.reader = TableReader({})

    @contextlib.contextmanager
    def row(self) -> Iterator[None]:
        """Read one row; its bad cells are recorded and the row skipped."""
        try:
            yield
        except CellError as exc:
            self.reader.problem(exc.where, exc.problem)
        except RowError as exc:
            for cell in exc.cells:
                self.reader.problem(cell.where, cell.problem)

    def check(self) -> None:
        problems = self.reader.problems
        if problems:
            listed = "\n  - ".join(problems)
            raise UsageError(f"{self.path}: {len(problems)} problem(s) in this measurement file:\n  - {listed}")


def text(record: Mapping[str, Any], column: str, path: Path | str, row: int) -> str:
    value = record.get(column)
    if value is None or not str(value).strip():
        raise CellError(row, column, "missing value")
    return str(value).strip()


def positive_int(record: Mapping[str, Any], column: str, path: Path | str, row: int) -> int:
    return int(_checked(record, column, path, row, _COUNT, "whole number"))


def positive_float(record: Mapping[str, Any], column: str, path: Path | str, row: int) -> float:
    return _checked(record, column, path, row, _FIGURE, "number")


def _checked(record: Mapping[str, Any], column: str, path: Path | str, row: int, rule: NumberRule, kind: str) -> float:
    """The cell as a number under ``rule``, else a CellError worded for a ``kind`` (number or
    whole number)."""
    cell = text(record, column, path, row)
    value = checked_number(cell, rule)
    if not isinstance(value, ValueProblem):
        return value
    if value.kind == "maximum":
        raise CellError(row, column, f"{cell!r} is above {rule.maximum:g}, past any measured run")
    raise CellError(row, column, f"expected a {kind if value.kind == 'type' else 'positive ' + kind}, got {cell!r}")
