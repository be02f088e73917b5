"""Claims files: the ``[[claim]]`` tables of a write-up read into :class:`Claim` values, every
problem reported at once with its key path.

Each claim names a quantity (see :mod:`blackwell_decide.evidence.quantities`), the scenario it is
about, the claimed value (a number or a ``[low, high]`` range) and a tolerance. Where the file
gives no tolerance, the claimed number's own precision sets it: half a unit in its last stated
digit (``5.5`` → ±0.05, ``135`` → ±0.5)."""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from blackwell_decide import input_files
from blackwell_decide.errors import ScenarioError, UsageError
from blackwell_decide.evidence.quantities import QUANTITIES
from blackwell_decide.input_schema import NumberRule, ValueProblem, checked_number, describe_value

_CLAIM_KEYS = {"id", "where", "text", "quantity", "claimed", "tolerance", "tolerance_pct", "scenario", "conventions"}
_CONVENTION_KEYS = {
    "stream_embeddings",
    "capacity_basis",
    "runtime_reserve_gb",
    "kv_headroom_gb",
    "figures",
    "decode_intensity",
}


@attrs.frozen
class Claim:
    id: str
    where: str
    text: str
    quantity: str
    claimed: float | tuple[float, float]
    claimed_text: str
    tolerance: float  # absolute, in the quantity's unit
    scenario: Mapping[str, Any] = attrs.field(converter=dict)
    conventions: Mapping[str, Any] = attrs.field(factory=dict, converter=dict)

    @property
    def point(self) -> float | None:
        return None if isinstance(self.claimed, tuple) else self.claimed


@attrs.frozen
class ClaimFile:
    path: str
    title: str
    source: str
    defaults: Mapping[str, Any] = attrs.field(converter=dict)
    claims: tuple[Claim, ...]


#: Scenario keys that name a catalog entry, a tier, a basis or a record: text, never a number.
_NAME_KEYS = frozenset(
    {
        "model",
        "gpu",
        "weights",
        "kv",
        "provider",
        "tier",
        "baseline_tier",
        "candidate_tier",
        "basis",
        "throughput_basis",
        "evidence",
        "ratio_evidence",
        "of",
        "via_gpu",
        "baseline_gpu",
        "engine",
        "conventions",
    }
)


def _precision_tolerance(text: str) -> float:
    """Half a unit in the last stated digit of ``text`` (a finite number's text)."""
    exponent = decimal.Decimal(text).as_tuple().exponent
    if not isinstance(exponent, int):  # NaN and infinity have no digits; _number refuses them first
        raise ValueError(f"{text} has no last digit to set a tolerance from")
    return 0.5 * 10.0**exponent


_ANY_FINITE = NumberRule()


def _number(value: Any, rule: NumberRule = _ANY_FINITE) -> tuple[float, str]:
    number = checked_number(value, rule)
    if isinstance(number, ValueProblem):
        raise ValueError(number.message)
    return number, repr(value) if isinstance(value, float) else str(value)


def _scenario_problems(table: Mapping[str, Any], where: str, *, depth: int = 0) -> list[str]:
    """What is wrong with a claim's (or the defaults') scenario table: names must be text, numbers
    finite, and a nested table (``numerator``, ``baseline``) holds values, not further tables."""
    problems = []
    for key, value in table.items():
        path = f"{where}.{key}"
        if isinstance(value, Mapping):
            if depth:
                problems.append(f"{path}: a table inside a nested table; give its keys one level up")
            else:
                problems.extend(_scenario_problems(value, path, depth=1))
        elif key in _NAME_KEYS or isinstance(value, str):
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{path}: expected a name (text), got {describe_value(value)}")
        elif isinstance(value, bool) or key == "as_of":
            continue  # as_of is a date (TOML date or text), read by the price lookup
        else:
            number = checked_number(value, _ANY_FINITE)
            if isinstance(number, ValueProblem):
                problems.append(f"{path}: {number.message}")
    return problems


def _text(entry: Mapping[str, Any], key: str, where: str, problems: list[str]) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str):
        problems.append(f"{where}.{key}: expected text, got {describe_value(value)}")
        return ""
    return value


def load_claims(path: str | Path) -> ClaimFile:
    """Read a claims file; every problem is reported at once, with its key path."""
    path = Path(path)
    try:
        raw = input_files.load_toml(path)
    except input_files.InputFileError as exc:
        raise UsageError(f"claims file {exc}") from None
    problems: list[str] = []
    defaults = raw.get("defaults", {})
    if not isinstance(defaults, Mapping):
        problems.append("defaults: must be a table")
        defaults = {}
    problems.extend(_scenario_problems(defaults, "defaults"))
    title = _text(raw, "title", "(top level)", problems) or path.stem
    source = _text(raw, "source", "(top level)", problems)
    claims: list[Claim] = []
    seen: set[str] = set()
    entries = raw.get("claim", [])
    if isinstance(entries, Mapping):
        problems.append("claim: written as one [claim] table; write each claim as a [[claim]] table")
        entries = []
    elif not isinstance(entries, list) or not entries:
        problems.append("claim: no [[claim]] entries")
        entries = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            problems.append(f"claim[{index}]: expected a [[claim]] table, got {describe_value(entry)}")
            continue
        claim = _claim(entry, index, seen, problems)
        if claim is not None:
            claims.append(claim)
    if problems:
        raise ScenarioError(str(path), problems)
    return ClaimFile(str(path), title, source, defaults, tuple(claims))


def _claim(entry: Mapping[str, Any], index: int, seen: set[str], problems: list[str]) -> Claim | None:
    """One ``[[claim]]`` entry, or None with its problems recorded."""
    given = entry.get("id")
    where = f"claim {given!r}" if isinstance(given, str) and given.strip() else f"claim[{index}]"
    unknown = set(entry) - _CLAIM_KEYS
    if unknown:
        problems.append(f"{where}: unknown keys {', '.join(sorted(unknown))} (known: {', '.join(sorted(_CLAIM_KEYS))})")
    required = ("id", "text", "quantity", "claimed")
    problems.extend(f"{where}.{key}: missing" for key in required if key not in entry)
    if any(key not in entry for key in required):
        return None
    before = len(problems)
    cid, text, quantity = (_text(entry, key, where, problems) for key in ("id", "text", "quantity"))
    place = _text(entry, "where", where, problems)
    problems.extend(f"{where}.{key}: must not be empty" for key, v in (("id", cid), ("text", text)) if not v.strip())
    if len(problems) > before:
        return None
    if cid in seen:
        problems.append(f"{where}: id used twice")
    seen.add(cid)
    if quantity not in QUANTITIES:
        problems.append(f"{where}.quantity: unknown quantity {quantity!r}; known: {', '.join(sorted(QUANTITIES))}")
    conventions = entry.get("conventions", {})
    bad_conv = set(conventions) - _CONVENTION_KEYS if isinstance(conventions, Mapping) else {"(not a table)"}
    if bad_conv:
        problems.append(f"{where}.conventions: unknown keys {', '.join(sorted(bad_conv))}")
        conventions = {}
    try:
        claimed, claimed_text, tolerance = _claimed_and_tolerance(entry)
    except (TypeError, ValueError, decimal.InvalidOperation) as exc:
        problems.append(f"{where}.claimed/tolerance: {exc}")
        return None
    scenario = entry.get("scenario", {})
    if not isinstance(scenario, Mapping):
        problems.append(f"{where}.scenario: must be a table")
        return None
    if found := _scenario_problems(scenario, f"{where}.scenario"):
        problems.extend(found)
        return None
    return Claim(
        cid,
        place,
        text,
        quantity,
        claimed,
        claimed_text,
        tolerance,
        scenario,
        conventions,
    )


def _claimed_and_tolerance(entry: Mapping[str, Any]) -> tuple[float | tuple[float, float], str, float]:
    """The claimed figure (a number or a [low, high] range), its text as written and the
    tolerance: given, as a percentage, or the precision the figure was written to."""
    claimed_raw = entry["claimed"]
    claimed: float | tuple[float, float]
    if isinstance(claimed_raw, list):
        if len(claimed_raw) != 2:
            raise TypeError("a range is [low, high]")
        (low, low_text), (high, high_text) = (_number(v) for v in claimed_raw)
        if low > high:
            raise ValueError(f"range [{low:g}, {high:g}] has low above high")
        claimed = (low, high)
        claimed_text = f"{low_text}–{high_text}"
        default_tol = max(_precision_tolerance(low_text), _precision_tolerance(high_text))
    else:
        claimed, claimed_text = _number(claimed_raw)
        default_tol = _precision_tolerance(claimed_text)
    # A tolerance is finite and not negative; an infinite one would make every claim agree.
    if "tolerance" in entry:
        tolerance = _number(entry["tolerance"], NumberRule(minimum=0))[0]
    elif "tolerance_pct" in entry:
        scale = abs(claimed if isinstance(claimed, float) else max(abs(claimed[0]), abs(claimed[1])))
        tolerance = _number(entry["tolerance_pct"], NumberRule(minimum=0, maximum=1000))[0] / 100 * scale
    else:
        tolerance = default_tol
    return claimed, claimed_text, tolerance
