"""What is known about serving a low-bit format: which engine releases run it, and how much
accuracy quantised checkpoints keep. Read from ``data/precision.toml``, every figure with its
source; the precision rule (situation 6) turns these into facts."""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any

import attrs

from blackwell_decide.errors import CatalogError
from blackwell_decide.model import Source

DATA_FILE = "precision.toml"


@attrs.frozen
class StackSupport:
    """Whether ``engine`` serves ``format``; ``since`` is the earliest release with evidence ("" if
    unknown)."""

    engine: str
    format: str
    supported: bool
    since: str
    maturity: str
    source: Source
    note: str = ""


@attrs.frozen
class AccuracyEvidence:
    """Accuracy a ``format`` checkpoint keeps, as a fraction of the 16-bit reference."""

    format: str
    models: tuple[str, ...]
    recovery: float
    metric: str
    source: Source
    note: str = ""


@attrs.frozen
class StackVerdict:
    """The answer for one scenario: does its stack serve the format, and on what grounds."""

    engine: str | None
    version: str | None
    format: str
    supported: bool
    known: bool  # False when nothing is recorded for this engine (the answer is an assumption)
    record: StackSupport | None
    overridden: bool  # the scenario said so explicitly
    explanation: str


def version_tuple(text: str) -> tuple[int, ...]:
    """``"0.12.0"`` → (0, 12, 0); letters and suffixes (``rc1``) are ignored."""
    return tuple(int(part) for part in re.findall(r"\d+", text.split("+", 1)[0]))


def _source(origin: str, where: str, raw: Mapping[str, Any]) -> Source:
    try:
        return Source(
            url=raw["url"],
            date=str(raw["date"]),
            kind=raw["kind"],
            title=raw.get("title", ""),
            note=raw.get("note", ""),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise CatalogError(f"{origin}: {where}: needs url, date and a known kind ({exc})") from None


@functools.cache
def _load() -> tuple[tuple[StackSupport, ...], tuple[AccuracyEvidence, ...]]:
    text = resources.files("blackwell_decide.rules").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    doc = tomllib.loads(text)
    sources = {k: _source(DATA_FILE, f"sources.{k}", v) for k, v in doc.get("sources", {}).items()}

    def cited(where: str, raw: Mapping[str, Any]) -> Source:
        key = raw.get("source")
        if key not in sources:
            raise CatalogError(f"{DATA_FILE}: {where}: source {key!r} is not defined under [sources]")
        return sources[key]

    stacks = tuple(
        StackSupport(
            engine=str(s["engine"]).lower(),
            format=str(s["format"]).lower(),
            supported=bool(s["supported"]),
            since=str(s.get("since", "")),
            maturity=str(s.get("maturity", "")),
            source=cited(f"stack[{i}]", s),
            note=str(s.get("note", "")),
        )
        for i, s in enumerate(doc.get("stack", []))
    )
    accuracy = tuple(
        AccuracyEvidence(
            format=str(a["format"]).lower(),
            models=tuple(a["models"]),
            recovery=float(a["recovery"]),
            metric=str(a["metric"]),
            source=cited(f"accuracy[{i}]", a),
            note=str(a.get("note", "")),
        )
        for i, a in enumerate(doc.get("accuracy", []))
    )
    return stacks, accuracy


def stack_records() -> tuple[StackSupport, ...]:
    return _load()[0]


def accuracy_records(format_key: str, model_key: str) -> tuple[AccuracyEvidence, ...]:
    """Evidence for ``format_key`` checkpoints of ``model_key`` (its architecture family), lowest
    recovery first."""
    found = [a for a in _load()[1] if a.format == format_key.lower() and model_key in a.models]
    return tuple(sorted(found, key=lambda a: (a.recovery, a.source.url)))


def stack_support(
    engine: str | None, version: str | None, format_key: str, override: bool | None = None
) -> StackVerdict:
    """Does ``engine`` at ``version`` serve ``format_key``? ``override`` (the scenario's
    ``nvfp4_supported``) wins over the table."""
    format_key = format_key.lower()
    record = next(
        (s for s in stack_records() if engine and s.engine == engine.lower() and s.format == format_key), None
    )
    if override is not None:
        said = "serves" if override else "does not serve"
        return StackVerdict(
            engine,
            version,
            format_key,
            override,
            True,
            record,
            True,
            f"the scenario states that the serving stack {said} {format_key}",
        )
    if engine is None:
        return StackVerdict(
            None, version, format_key, True, False, None, False, "no serving stack given; assumed able to serve it"
        )
    return _recorded_support(engine, version, format_key, record)


def _recorded_support(engine: str, version: str | None, format_key: str, record: StackSupport | None) -> StackVerdict:
    """What the stack table says of ``engine`` at ``version`` for ``format_key`` (assumed able to
    serve it where nothing is recorded)."""
    if record is None:
        return StackVerdict(
            engine,
            version,
            format_key,
            True,
            False,
            None,
            False,
            f"nothing recorded for {engine}; assumed able to serve {format_key} "
            "(set constraints.nvfp4_supported to say otherwise)",
        )
    if not record.supported:
        return StackVerdict(
            engine,
            version,
            format_key,
            False,
            True,
            record,
            False,
            f"{engine} does not serve {format_key} ({record.maturity})",
        )
    if version and record.since and version_tuple(version) < version_tuple(record.since):
        return StackVerdict(
            engine,
            version,
            format_key,
            False,
            True,
            record,
            False,
            f"{engine} {version} predates {record.since}, the earliest release with evidence of serving {format_key}",
        )
    since = f" since {record.since}" if record.since else ""
    return StackVerdict(
        engine,
        version,
        format_key,
        True,
        True,
        record,
        False,
        f"{engine} serves {format_key}{since} ({record.maturity})",
    )
