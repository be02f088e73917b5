"""The one validating reader for key-value input files: scenarios, price files and catalog data files.

A :class:`Key` states what a key must hold (kind, unit, bounds, an example); a :class:`TableReader`
reads a parsed document against a schema of such keys and records every problem, each as
``key.path: what is wrong; how to fix it``, so a caller raises one error listing them all. A
:class:`Table` walks nested tables (``accelerator[3].bandwidth.value_tb_s``) and records its
problems on the same reader."""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
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
    maximum: float | None = None  # inclusive
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

    def __len__(self) -> int:
        """How many problems so far (a reader without problems is falsy)."""
        return len(self.problems)

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


# --------------------------------------------------------------------------- the shared value rules
@attrs.frozen
class NumberRule:
    """What a number read from any input file must be. Every reader (scenario and price keys,
    catalog tables, Hugging Face configs, benchmark results) checks its numbers through
    :func:`checked_number` with one of these, so a NaN, an infinity, a boolean, a negative or an
    out-of-range value is refused by the same code whichever file it is in."""

    positive: bool = False  # strictly above zero
    minimum: float | None = None  # inclusive
    maximum: float | None = None  # inclusive
    #: A positive value below this is refused: 5e-324 is above zero but divides as zero.
    smallest: float | None = None
    whole: bool = False  # 8192.0 is whole (JSON writers emit it), 1.5 is not
    #: A string holding a number ("12.5") is read as that number (CSV-minded benchmark writers).
    numeric_text: bool = False


@attrs.frozen
class ValueProblem:
    """Why a value was refused: ``kind`` (type, finite, whole, positive, minimum, maximum,
    smallest) for readers that word it their own way, and ``message``, a phrase to follow the key
    path (``must be a finite number, got nan``)."""

    kind: str
    message: str


def checked_number(value: Any, rule: NumberRule) -> float | ValueProblem:
    """``value`` as a float when it satisfies ``rule``, else the first rule it breaks."""
    if rule.numeric_text and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return ValueProblem("type", f"expected a number, got {describe_value(value)}")
    # TOML and JSON booleans are ints in Python; a size or a price of `true` is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ValueProblem("type", f"expected a number, got {describe_value(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        number = math.inf
    if not math.isfinite(number):
        return ValueProblem("finite", f"must be a finite number, got {shown(value)}")
    if rule.whole and not number.is_integer():
        return ValueProblem("whole", f"must be a whole number, got {shown(value)}")
    if rule.positive and number <= 0:
        return ValueProblem("positive", f"must be greater than zero, got {shown(value)}")
    if rule.minimum is not None and number < rule.minimum:
        return ValueProblem("minimum", f"must be at least {_bound(rule.minimum)}, got {shown(value)}")
    if rule.maximum is not None and number > rule.maximum:
        return ValueProblem("maximum", f"must be at most {_bound(rule.maximum)}, got {shown(value)}")
    if rule.smallest is not None and 0 < number < rule.smallest:
        return ValueProblem("smallest", f"must be at least {rule.smallest:g}, got {shown(value)}")
    return number


def checked_flag(value: Any) -> bool | ValueProblem:
    """``value`` when it is a boolean (never 0/1 or "yes"), else why not."""
    if isinstance(value, bool):
        return value
    return ValueProblem("type", f"expected true or false, got {describe_value(value)}")


def shown(value: object) -> str:
    """``repr`` of a value for a message, safe for integers of thousands of digits."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"an integer of {value.bit_length()} bits"  # repr of a 5,000-digit integer raises
    return repr(value)


def _bound(bound: float) -> str:
    # 10,000,000 layers reads better than 1e+07; a fractional bound keeps its digits
    return f"{int(bound):,}" if float(bound).is_integer() and abs(bound) < 1e15 else f"{bound:g}"


def _report(r: TableReader, path: str, key: str, spec: Key, value: Any, problem: ValueProblem) -> None:
    if problem.kind == "type" and spec.unit:
        unit = f" ({spec.unit}; the unit is in the key's name)"
        r.problem(path, f"expected a number{unit}, got {describe_value(value)}; {_fix(key, spec)}")
    else:
        r.problem(path, f"{problem.message}; {_fix(key, spec)}")


def _check_number(r: TableReader, path: str, key: str, spec: Key, value: Any) -> float | None:
    number = checked_number(value, NumberRule(positive=spec.positive, minimum=spec.minimum, maximum=spec.maximum))
    if isinstance(number, ValueProblem):
        _report(r, path, key, spec, value, number)
        return None
    return number


def _check_int(r: TableReader, path: str, key: str, spec: Key, value: Any) -> int | None:
    number = checked_number(
        value, NumberRule(positive=spec.positive, minimum=spec.minimum, maximum=spec.maximum, whole=True)
    )
    if isinstance(number, ValueProblem):
        _report(r, path, key, spec, value, number)
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
    flag = checked_flag(value)
    if isinstance(flag, ValueProblem):
        r.problem(path, f"{flag.message}; {_fix(key, spec)}")
        return None
    return flag


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


# --------------------------------------------------------------------------- nested tables
_PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class Table:
    """A TOML table together with the key path that leads to it (``accelerator[3].bandwidth``),
    read key by key: each check records its problem on the shared :class:`TableReader` with the
    key path and the fix, so a loader of nested data files reports every problem at once. The
    catalog loaders (``catalog_files``) read their files with it."""

    def __init__(self, data: Mapping[str, Any], where: str, reader: TableReader) -> None:
        self.data = data
        self.where = where
        self.reader = reader

    @property
    def problems(self) -> list[str]:
        return self.reader.problems

    def at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, message: str) -> None:
        self.reader.problem(self.at(key) if key else self.where or "(top level)", message)

    def allow(self, *keys: str) -> None:
        for key in self.data:
            if key not in keys:
                near = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
                hint = f"did you mean {near[0]!r}?" if near else f"allowed keys here: {', '.join(keys)}"
                self.fail(key, f"unknown key; {hint}")

    def has(self, key: str) -> bool:
        return key in self.data

    def text(self, key: str, *, example: str, required: bool = True, default: str = "") -> str:
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, f"missing; add {key} = {example}")
            return default
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"expected a non-empty string, got {value!r}; write {key} = {example}")
            return default
        return value.strip()

    def number(
        self,
        key: str,
        *,
        unit: str,
        example: str,
        required: bool = True,
        allow_zero: bool = False,
        maximum: float | None = None,
    ) -> float | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, f"missing; add {key} = {example} ({unit})")
            return None
        rule = NumberRule(minimum=0.0, maximum=maximum) if allow_zero else NumberRule(positive=True, maximum=maximum)
        number = checked_number(value, rule)
        if not isinstance(number, ValueProblem):
            return number
        if number.kind == "type":
            self.fail(key, f"expected a number in {unit}, got {value!r}; write {key} = {example}")
        elif number.kind == "finite":
            self.fail(key, f"must be a finite number ({unit}), got {shown(value)}; write {key} = {example}")
        elif number.kind == "maximum":
            # The value class would refuse it too, but without the file and key path.
            self.fail(key, f"{value!r} is above the largest plausible {maximum:g} {unit}; check the units")
        else:
            bound = "zero or more" if allow_zero else "greater than zero"
            self.fail(key, f"must be {bound} ({unit}), got {value!r}")
        return None

    def integer(self, key: str, *, example: str, required: bool = True) -> int | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, f"missing; add {key} = {example}")
            return None
        number = checked_number(value, NumberRule(minimum=0.0, whole=True))
        if isinstance(number, ValueProblem):
            self.fail(key, f"expected a whole number of zero or more, got {shown(value)}; write {key} = {example}")
            return None
        return int(number)

    def flag(self, key: str, *, default: bool) -> bool:
        flag = checked_flag(self.data.get(key, default))
        if isinstance(flag, ValueProblem):
            self.fail(key, flag.message)
            return default
        return flag

    def texts(self, key: str, *, example: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(key, f"expected a list of non-empty strings, got {value!r}; write {key} = {example}")
            return ()
        return tuple(v.strip() for v in value)

    def table(self, key: str, *, required: bool = True) -> Table | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, f"missing; add a [{self.at(key)}] table (see docs/catalog-schema.md)")
            return None
        if not isinstance(value, dict):
            self.fail(key, f"expected a table, got {value!r}")
            return None
        return Table(value, self.at(key), self.reader)

    def tables(self, key: str, *, required: bool = True) -> list[Table]:
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, f"missing; add at least one [[{self.at(key)}]] entry")
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(key, f"expected an array of tables ([[{self.at(key)}]]), got {value!r}")
            return []
        return [Table(item, f"{self.at(key)}[{i}]", self.reader) for i, item in enumerate(value)]

    def citation_date(self, key: str) -> str | None:
        """A source date: a TOML date, or ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or ``n.d.``."""
        value = self.data.get(key)
        if value is None:
            self.fail(key, 'missing; add date = 2025-06-24 (or "2025-06", or "n.d." where the page shows none)')
            return None
        if isinstance(value, dt.datetime):
            self.fail(key, f"expected a date without a time, got {value!r}; write date = {value.date()}")
            return None
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str) and (value == "n.d." or _PARTIAL_DATE.match(value)):
            return value
        self.fail(key, f'expected a date (2025-06-24, "2025-06", "2025" or "n.d."), got {value!r}')
        return None

    def day(self, key: str, *, example: str) -> dt.date | None:
        """A full calendar date (prices are dated to the day)."""
        value = self.data.get(key)
        if value is None:
            self.fail(key, f"missing; add {key} = {example} (the day the prices were published or fetched)")
            return None
        day = as_date(value)
        if day is not None:
            return day
        self.fail(key, f"expected a calendar date, got {value!r}; write {key} = {example}")
        return None
