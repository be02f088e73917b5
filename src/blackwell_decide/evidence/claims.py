"""Claim audit: recompute each claim of a write-up and say whether it agrees, and if not, by how
much and why.

A claims file (TOML) lists claims, each a quantity (see :mod:`blackwell_decide.evidence.quantities`),
the scenario it is about, the claimed value (a number or a ``[low, high]`` range) and a tolerance.
Where the file gives no tolerance, the claimed number's own precision sets it: half a unit in
its last stated digit (``5.5`` → ±0.05, ``135`` → ±0.5).

The verdict compares the claim with the library's own answer (the physics conventions, like
tiers, the evidence on its own token basis). A claim that differs is explained by the causes the
calculator found and by the other readings that reproduce the claimed value.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide import input_files
from blackwell_decide.errors import BlackwellDecideError, ScenarioError, UsageError
from blackwell_decide.evidence.quantities import QUANTITIES
from blackwell_decide.evidence.readings import Context, Reading, Recomputed, format_number

if TYPE_CHECKING:
    from blackwell_decide.model import Conventions
    from blackwell_decide.plugins import Catalog

AGREES, DIFFERS, ERROR = "agrees", "differs", "error"
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


def _precision_tolerance(text: str) -> float:
    """Half a unit in the last stated digit of ``text``."""
    exponent = decimal.Decimal(text).as_tuple().exponent
    assert isinstance(exponent, int)
    return 0.5 * 10.0**exponent


def _number(value: Any) -> tuple[float, str]:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value), repr(value) if isinstance(value, float) else str(value)


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
    claims: list[Claim] = []
    seen: set[str] = set()
    entries = raw.get("claim", [])
    if not entries:
        problems.append("claim: no [[claim]] entries")
    for index, entry in enumerate(entries):
        claim = _claim(entry, index, seen, problems)
        if claim is not None:
            claims.append(claim)
    if problems:
        raise ScenarioError(str(path), problems)
    return ClaimFile(str(path), raw.get("title", path.stem), raw.get("source", ""), defaults, tuple(claims))


def _claim(entry: Mapping[str, Any], index: int, seen: set[str], problems: list[str]) -> Claim | None:
    """One ``[[claim]]`` entry, or None with its problems recorded."""
    given = entry.get("id")
    where = f"claim {given!r}" if given else f"claim[{index}]"
    unknown = set(entry) - _CLAIM_KEYS
    if unknown:
        problems.append(f"{where}: unknown keys {', '.join(sorted(unknown))} (known: {', '.join(sorted(_CLAIM_KEYS))})")
    required = ("id", "text", "quantity", "claimed")
    problems.extend(f"{where}.{key}: missing" for key in required if key not in entry)
    if any(key not in entry for key in required):
        return None
    cid = entry["id"]
    if cid in seen:
        problems.append(f"{where}: id used twice")
    seen.add(cid)
    if entry["quantity"] not in QUANTITIES:
        problems.append(
            f"{where}.quantity: unknown quantity {entry['quantity']!r}; known: {', '.join(sorted(QUANTITIES))}"
        )
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
    return Claim(
        cid,
        entry.get("where", ""),
        entry["text"],
        entry["quantity"],
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
    if "tolerance" in entry:
        tolerance = _number(entry["tolerance"])[0]
    elif "tolerance_pct" in entry:
        scale = abs(claimed if isinstance(claimed, float) else max(abs(claimed[0]), abs(claimed[1])))
        tolerance = _number(entry["tolerance_pct"])[0] / 100 * scale
    else:
        tolerance = default_tol
    if tolerance < 0:
        raise ValueError("tolerance must be zero or positive")
    return claimed, claimed_text, tolerance


@attrs.frozen
class ClaimResult:
    claim: Claim
    verdict: str  # agrees, differs, error
    recomputed: Recomputed | None = None
    difference: float | None = None  # primary − claimed (to the nearest end of a range)
    reproducing: tuple[Reading, ...] = ()
    error: str = ""

    @property
    def relative(self) -> float | None:
        c = self.claim
        if self.difference is None:
            return None
        ref = c.point if c.point is not None else (c.claimed[0] if self.difference < 0 else c.claimed[1])  # type: ignore[index]
        return self.difference / ref if ref else None

    def to_dict(self) -> dict[str, Any]:
        c = self.claim
        out: dict[str, Any] = {
            "id": c.id,
            "where": c.where,
            "text": c.text,
            "quantity": c.quantity,
            "claimed": list(c.claimed) if isinstance(c.claimed, tuple) else c.claimed,
            "tolerance": c.tolerance,
            "verdict": self.verdict,
        }
        if self.error:
            out["error"] = self.error
        r = self.recomputed
        if r is not None:
            out.update(
                {
                    "unit": r.unit,
                    "computed": r.primary.value,
                    "computed_as": r.primary.label,
                    "detail": r.primary.detail,
                    "difference": self.difference,
                    "relative_difference": self.relative,
                    "because": list(r.attributions),
                    "reproduced_by": [{"reading": x.label, "value": x.value} for x in self.reproducing],
                    "readings": [{"reading": x.label, "value": x.value, "detail": x.detail} for x in r.readings],
                    "notes": list(r.notes),
                    "formula": r.formula,
                }
            )
            if r.band is not None:
                out["band"] = list(r.band)
        return out


def _within(value: float, claim: Claim) -> bool:
    if isinstance(claim.claimed, tuple):
        low, high = claim.claimed
        return low - claim.tolerance <= value <= high + claim.tolerance
    return abs(value - claim.claimed) <= claim.tolerance + 1e-12 * max(1.0, abs(claim.claimed))


def _gap(value: float, claim: Claim) -> float:
    if isinstance(claim.claimed, tuple):
        low, high = claim.claimed
        return value - low if value < low else (value - high if value > high else 0.0)
    return value - claim.claimed


def source_conventions(defaults: Mapping[str, Any], claim: Claim) -> Conventions:
    """The conventions the claim's source used: the preset named in the file's defaults, with the
    claim's own overrides."""
    from blackwell_decide.model import CapacityBasis, Conventions
    from blackwell_decide.units import GB

    preset = str(claim.scenario.get("conventions", defaults.get("conventions", "physics")))
    if preset not in {"physics", "article"}:
        raise UsageError(f"conventions {preset!r}: use 'physics' or 'article'")
    base = Conventions.article() if preset == "article" else Conventions()
    changes: dict[str, Any] = {}
    for key, value in claim.conventions.items():
        if key == "capacity_basis":
            changes[key] = CapacityBasis(value)
        elif key in {"runtime_reserve_gb", "kv_headroom_gb"}:
            changes[key.replace("_gb", "_bytes")] = float(value) * GB
        else:
            changes[key] = value
    return attrs.evolve(base, **changes)


def audit_claim(catalog: Catalog, defaults: Mapping[str, Any], claim: Claim, cache: dict[Any, Any]) -> ClaimResult:
    scenario = {k: v for k, v in defaults.items() if k != "conventions"}
    scenario.update(claim.scenario)
    try:
        ctx = Context(catalog, scenario, source_conventions(defaults, claim), claim.point, cache)
        recomputed = QUANTITIES[claim.quantity](ctx)
    except (BlackwellDecideError, KeyError, ValueError) as exc:
        return ClaimResult(claim, ERROR, error=str(exc).strip("'\""))
    if recomputed.band is not None:
        low, high = recomputed.band
        agrees = _within(low, claim) and _within(high, claim)
        gap = _gap(low, claim) if not _within(low, claim) else _gap(high, claim)
    else:
        agrees = _within(recomputed.primary.value, claim)
        gap = _gap(recomputed.primary.value, claim)
    # A band is judged as a whole; its members are listed, not matched one by one.
    reproducing = (
        () if recomputed.band is not None else tuple(r for r in recomputed.readings if _within(r.value, claim))
    )
    return ClaimResult(claim, AGREES if agrees else DIFFERS, recomputed, gap, reproducing)


@attrs.frozen
class AuditReport:
    path: str
    title: str
    source: str
    defaults: Mapping[str, Any] = attrs.field(converter=dict)
    results: tuple[ClaimResult, ...]

    def count(self, verdict: str) -> int:
        return sum(1 for r in self.results if r.verdict == verdict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "title": self.title,
            "source": self.source,
            "defaults": dict(self.defaults),
            "summary": {v: self.count(v) for v in (AGREES, DIFFERS, ERROR)},
            "claims": [r.to_dict() for r in self.results],
        }


def audit(claims: ClaimFile, catalog: Catalog) -> AuditReport:
    cache: dict[Any, Any] = {}
    results = tuple(audit_claim(catalog, claims.defaults, c, cache) for c in claims.claims)
    return AuditReport(claims.path, claims.title, claims.source, claims.defaults, results)


# ---------------------------------------------------------------------------- text
def _plain(value: float) -> str:
    """A number at a precision that suits its size; whole numbers without decimals."""
    if math.isfinite(value) and abs(value) >= 1 and math.isclose(value, round(value), abs_tol=1e-9):
        return f"{value:,.0f}"
    return format_number(value)


def _fmt(value: float, unit: str) -> str:
    if unit.startswith("USD"):
        return f"${value:,.0f}" if abs(value) >= 100 else f"${value:.3g}"
    text = _plain(value)
    return f"{text}×" if unit == "×" else f"{text} {unit}"


def _claimed_text(claim: Claim, unit: str) -> str:
    if isinstance(claim.claimed, tuple):
        body = (
            claim.claimed_text
            if max(claim.claimed) < 1000
            else f"{_plain(claim.claimed[0])}–{_plain(claim.claimed[1])}"
        )
    else:
        body = _plain(claim.claimed) if abs(claim.claimed) >= 1000 else claim.claimed_text
    tol = f"±{_plain(claim.tolerance)}" if claim.tolerance >= 1 else f"±{claim.tolerance:.3g}"
    if unit.startswith("USD"):
        return f"${body} ({tol})"
    return f"{body}{'×' if unit == '×' else ' ' + unit} ({tol})"


def _signed(value: float) -> str:
    return ("+" if value >= 0 else "−") + f"{abs(value):.1%}"


def format_result(result: ClaimResult, *, verbose: bool = True) -> str:
    c = result.claim
    head = f"[{result.verdict}] {c.id}" + (f" ({c.where})" if c.where else "") + f": {c.text}"
    lines = [head]
    if result.verdict == ERROR:
        lines.append(f"  could not recompute: {result.error}")
        return "\n".join(lines)
    r = result.recomputed
    assert r is not None
    lines.append(f"  claimed   {_claimed_text(c, r.unit)}")
    if r.band is not None:
        computed = f"{_fmt(r.band[0], r.unit)} to {_fmt(r.band[1], r.unit)} (median {_fmt(r.primary.value, r.unit)})"
    else:
        computed = f"{_fmt(r.primary.value, r.unit)} ({r.primary.label}"
        computed += f": {r.primary.detail})" if r.primary.detail else ")"
    lines.append(f"  computed  {computed}")
    differs = result.verdict == DIFFERS
    if differs and result.difference is not None:
        rel = result.relative
        pct = f" ({_signed(rel)})" if rel is not None else ""
        sign = "+" if result.difference > 0 else "−"
        lines.append(f"  differs   by {sign}{_fmt(abs(result.difference), r.unit)}{pct}")
    for cause in r.attributions:
        lines.append(f"  {'because' if differs else 'aside  '}   {cause}")
    if differs:
        for x in result.reproducing:
            lines.append(
                f"  claim reproduced by: {x.label} = {_fmt(x.value, r.unit)}" + (f" ({x.detail})" if x.detail else "")
            )
        if not result.reproducing and r.band is None:
            lines.append("  no reading tried reproduces the claimed value")
    if verbose:
        shown = set(result.reproducing)
        for x in r.readings:
            if x not in shown:
                detail = f" ({x.detail})" if x.detail and r.band is not None else ""
                lines.append(f"  also      {x.label} = {_fmt(x.value, r.unit)}{detail}")
        for note in r.notes:
            lines.append(f"  note      {note}")
    return "\n".join(lines)


def format_audit(report: AuditReport, *, verbose: bool = True) -> str:
    lines = [f"Claim audit: {report.title}"]
    if report.source:
        lines.append(f"source: {report.source}")
    d = report.defaults
    if d:
        lines.append("defaults: " + ", ".join(f"{k} = {v}" for k, v in d.items()))
    lines.append(
        "verdicts compare each claim with the physics (device-reported memory, only the lm_head streamed, "
        "dense FLOP/s, computed intensity), like-for-like price tiers and each source's own token basis; "
        "'reproduced by' names the reading that gives the claimed number"
    )
    preset = str(d.get("conventions", "physics"))
    if preset != "physics":
        from blackwell_decide.model import Conventions

        described = "; ".join(Conventions.article().describe())
        lines.append(f"the source's conventions ({preset}): {described}")
    lines.append(
        f"summary: {report.count(AGREES)} agree, {report.count(DIFFERS)} differ"
        + (f", {report.count(ERROR)} could not be recomputed" if report.count(ERROR) else "")
    )
    for result in report.results:
        lines += ["", format_result(result, verbose=verbose)]
    return "\n".join(lines) + "\n"


def audit_file(path: str | Path, catalog: Catalog) -> AuditReport:
    return audit(load_claims(path), catalog)


__all__ = [
    "AGREES",
    "DIFFERS",
    "ERROR",
    "AuditReport",
    "Claim",
    "ClaimFile",
    "ClaimResult",
    "audit",
    "audit_claim",
    "audit_file",
    "format_audit",
    "format_result",
    "load_claims",
    "source_conventions",
]
