"""Claim audit: recompute each claim of a write-up and say whether it agrees, and if not, by how
much and why.

The claims come from a claims file (:mod:`blackwell_decide.evidence.claim_file`). The verdict
compares the claim with the library's own answer (the physics conventions, like tiers, the
evidence on its own token basis). A claim that differs is explained by the causes the calculator
found and by the other readings that reproduce the claimed value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.errors import BlackwellDecideError, UsageError
from blackwell_decide.evidence.claim_file import Claim, ClaimFile, load_claims
from blackwell_decide.evidence.quantities import QUANTITIES
from blackwell_decide.evidence.readings import Context, Reading, Recomputed, format_number

if TYPE_CHECKING:
    from blackwell_decide.model import Conventions
    from blackwell_decide.plugins import Catalog

AGREES, DIFFERS, ERROR = "agrees", "differs", "error"


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
