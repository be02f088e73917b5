"""The one validating reader for key-value input files (scenarios today; price and catalog files next).

A :class:`Key` states what a key must hold (kind, unit, bounds, an example); a :class:`TableReader`
reads a parsed document against a schema of such keys and records every problem, each as
``key.path: what is wrong; how to fix it``, so a caller raises one error listing them all."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from blackwell_decide.dates import as_date
from blackwell_decide.errors import nearest_match


@attrs.frozen
class Key:
    """One key of the schema: its kind, unit (for messages), whether it is required and an
    example value for the fix."""

    kind: str  # str, int, number, date, bool, choice, path, fraction
    help: str
    example: str
    unit: str = ""
    required: bool = False
    minimum: float | None = None  # inclusive
    positive: bool = False  # strictly above zero
    choices: tuple[str, ...] = ()
    #: Other spellings of a choice (normalised as the value is), as (spelling, choice) pairs.
    aliases: tuple[tuple[str, str], ...] = ()


class TableReader:
    """Reads values out of a parsed TOML (or JSON) document against ``schema`` (section name to
    its keys), recording one problem per bad key so that every problem is reported at once."""

    def __init__(self, schema: Mapping[str, Mapping[str, Key]]) -> None:
        self.schema = schema
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def table(self, doc: Mapping[str, Any], name: str, *, required: bool) -> Mapping[str, Any] | None:
        value = doc.get(name)
        if value is None:
            if required:
                self.problem(f"[{name}]", f"missing section; add a [{name}] table (see `blackwell-decide init`)")
            return None
        if not isinstance(value, Mapping):
            self.problem(name, f"must be a table ([{name}]), got {describe_value(value)}")
            return None
        return value

    def unknown_keys(self, table: Mapping[str, Any], section: str, where: str) -> None:
        known = self.schema[section]
        for key in table:
            if key in known:
                continue
            near = nearest_match(key, known)
            hint = f"did you mean {near!r}?" if near else f"known keys: {', '.join(known)}"
            self.problem(f"{where}.{key}", f"unknown key; {hint}")

    def get(self, table: Mapping[str, Any], section: str, key: str, where: str) -> Any:
        """The checked value of ``key`` (None when absent and optional, or invalid)."""
        spec = self.schema[section][key]
        path = f"{where}.{key}"
        if key not in table:
            if spec.required:
                self.problem(path, f"missing; {spec.help}, for example {key} = {spec.example}")
            return None
        value = table[key]
        check = _CHECKS[spec.kind]
        return check(self, path, key, spec, value)


def describe_value(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _fix(key: str, spec: Key) -> str:
    return f"write {key} = {spec.example}"


def _check_str(r: TableReader, path: str, key: str, spec: Key, value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        r.problem(path, f"expected text, got {describe_value(value)}; {_fix(key, spec)}")
        return None
    return value.strip()


def _check_number(r: TableReader, path: str, key: str, spec: Key, value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        unit = f" ({spec.unit}; the unit is in the key's name)" if spec.unit else ""
        r.problem(path, f"expected a number{unit}, got {describe_value(value)}; {_fix(key, spec)}")
        return None
    number = float(value) if not isinstance(value, int) or abs(value) < 10**300 else math.inf
    if not math.isfinite(number):
        r.problem(path, f"must be a finite number, got {value!r}; {_fix(key, spec)}")
        return None
    if spec.positive and number <= 0:
        r.problem(path, f"must be greater than zero, got {value!r}; {_fix(key, spec)}")
        return None
    if spec.minimum is not None and number < spec.minimum:
        r.problem(path, f"must be at least {spec.minimum:g}, got {value!r}; {_fix(key, spec)}")
        return None
    return number


def _check_int(r: TableReader, path: str, key: str, spec: Key, value: Any) -> int | None:
    number = _check_number(r, path, key, spec, value)
    if number is None:
        return None
    if number != int(number):
        r.problem(path, f"must be a whole number, got {value!r}; {_fix(key, spec)}")
        return None
    return int(number)


def _check_fraction(r: TableReader, path: str, key: str, spec: Key, value: Any) -> float | None:
    number = _check_number(r, path, key, spec, value)
    if number is None:
        return None
    if not 0 < number <= 1:
        hint = f"; write {number / 100:g} for {number:g} %" if 1 < number <= 100 else ""
        r.problem(path, f"must be a fraction between 0 and 1, got {value!r}{hint}")
        return None
    return number


def _check_date(r: TableReader, path: str, key: str, spec: Key, value: Any) -> dt.date | None:
    day = as_date(value)
    if day is not None:
        return day
    r.problem(path, f"expected a date (YYYY-MM-DD), got {describe_value(value)}; {_fix(key, spec)}")
    return None


def _check_bool(r: TableReader, path: str, key: str, spec: Key, value: Any) -> bool | None:
    if not isinstance(value, bool):
        r.problem(path, f"expected true or false, got {describe_value(value)}; {_fix(key, spec)}")
        return None
    return value


def _check_choice(r: TableReader, path: str, key: str, spec: Key, value: Any) -> str | None:
    text = _check_str(r, path, key, spec, value)
    if text is None:
        return None
    lowered = text.lower().replace("_", "-").replace(" ", "-")
    lowered = dict(spec.aliases).get(lowered, lowered)
    if lowered not in spec.choices:
        r.problem(path, f"must be one of {', '.join(spec.choices)}, got {value!r}")
        return None
    return lowered


def _check_path(r: TableReader, path: str, key: str, spec: Key, value: Any) -> str | None:
    return _check_str(r, path, key, spec, value)


def _check_list(r: TableReader, path: str, key: str, spec: Key, value: Any) -> Any:
    if not isinstance(value, list):
        r.problem(path, f"expected a list of tables ([[{path}]]), got {describe_value(value)}")
        return None
    return value


_CHECKS: Mapping[str, Callable[[TableReader, str, str, Key, Any], Any]] = {
    "str": _check_str,
    "int": _check_int,
    "number": _check_number,
    "fraction": _check_fraction,
    "date": _check_date,
    "bool": _check_bool,
    "choice": _check_choice,
    "path": _check_path,
    "list": _check_list,
}


# --------------------------------------------------------------------------- catalog checks
