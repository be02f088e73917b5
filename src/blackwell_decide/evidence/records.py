"""Dated evidence records: published figures with their source and explicit token basis, and
records derived from the measurement sets shipped with the project.

A record is one number a source published (a throughput, a ratio, a latency, a share), with the
scenario it was measured in, which tokens a rate counts (``input``, ``output``, ``total``) and
how that basis was established. Records of shipped sweeps are read off the throughput-vs-
interactivity frontier of the measured points (:func:`frontier_at`), read with
:func:`blackwell_decide.perf.ingest.load_dataset`.
"""

from __future__ import annotations

import functools
import itertools
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.economics.basis import Throughput, TokenBasis
from blackwell_decide.errors import CatalogError, UnknownKeyError, UsageError
from blackwell_decide.model import Source

if TYPE_CHECKING:
    from blackwell_decide.perf.ingest import Measurement

DATA_PACKAGE = "blackwell_decide.evidence.data"
RECORDS_FILE = "records.toml"
SWEEP_DATASET = "inferencemax-llama70b-1k1k"


@attrs.frozen
class BasisNote:
    """Which tokens a source's rates count, and how we know."""

    basis: TokenBasis
    how: str
    sources: tuple[str, ...]


@attrs.frozen
class EvidenceRecord:
    id: str
    title: str
    model: str
    gpu: str
    num_gpus: int
    weights: str
    engine: str
    scenario: str
    metric: str  # throughput_per_gpu, throughput, throughput_ratio, tpot_s, tokens_per_mw, share_of_tco
    value: float
    unit: str
    token_basis: TokenBasis | None
    source: Source
    basis_note: BasisNote | None = None
    isl: float | None = None
    osl: float | None = None
    tok_s_per_user: float | None = None
    concurrency: int | None = None
    tp: int | None = None
    baseline_gpu: str | None = None
    baseline_weights: str | None = None
    lower_bound: bool = False
    notes: tuple[str, ...] = ()

    @property
    def per_gpu_value(self) -> float:
        """The value per GPU: totals over several GPUs divided by their count."""
        if self.metric == "throughput" and self.num_gpus > 1:
            return self.value / self.num_gpus
        return self.value

    def throughput(self) -> Throughput:
        """This record's per-GPU rate as a :class:`Throughput` (for costing and conversion)."""
        if self.token_basis is None or self.metric not in {"throughput", "throughput_per_gpu"}:
            raise ValueError(f"evidence {self.id!r} is a {self.metric}, not a per-GPU token rate")
        return Throughput(
            self.per_gpu_value, self.token_basis, self.isl, self.osl, source=self.source, note=f"evidence {self.id}"
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "model": self.model,
            "gpu": self.gpu,
            "num_gpus": self.num_gpus,
            "weights": self.weights,
            "engine": self.engine,
            "scenario": self.scenario,
            "metric": self.metric,
            "value": self.value,
            "per_gpu_value": self.per_gpu_value,
            "unit": self.unit,
            "token_basis": self.token_basis.value if self.token_basis else None,
            "token_basis_evidence": list(self.basis_note.sources) if self.basis_note else [],
            "source": {
                "url": self.source.url,
                "date": self.source.date,
                "kind": self.source.kind.value,
                "title": self.source.title,
            },
            "notes": list(self.notes),
        }
        for key in ("isl", "osl", "tok_s_per_user", "concurrency", "tp", "baseline_gpu", "baseline_weights"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.lower_bound:
            out["lower_bound"] = True
        return out


# ---------------------------------------------------------------------------- published records
def _basis(text: str) -> TokenBasis | None:
    return TokenBasis.parse(text) if text else None


def parse_records(raw: Mapping[str, Any], origin: str) -> tuple[EvidenceRecord, ...]:
    """Records from a parsed ``records.toml`` document; ``origin`` names it in error messages."""
    notes = {
        key: BasisNote(TokenBasis.parse(v["basis"]), " ".join(v["how"].split()), v.get("sources", ()))
        for key, v in raw.get("bases", {}).items()
    }
    records = []
    seen: set[str] = set()
    for entry in raw.get("record", ()):
        rid = entry.get("id", "?")
        try:
            src = entry["source"]
            for required in ("url", "date", "kind"):
                if not src.get(required):
                    raise KeyError(f"source.{required}")
            ref = entry.get("basis_ref")
            if ref is not None and ref not in notes:
                raise KeyError(f"basis_ref {ref!r} (known: {', '.join(notes)})")
            record = EvidenceRecord(
                id=rid,
                title=entry["title"],
                model=entry.get("model", ""),
                gpu=entry.get("gpu", ""),
                num_gpus=int(entry.get("num_gpus", 1)),
                weights=entry.get("weights", ""),
                engine=entry.get("engine", ""),
                scenario=entry["scenario"],
                metric=entry["metric"],
                value=float(entry["value"]),
                unit=entry["unit"],
                token_basis=_basis(entry["token_basis"]),
                source=Source(src["url"], src["date"], src["kind"], src.get("title", ""), src.get("note", "")),
                basis_note=notes.get(ref) if ref else None,
                isl=entry.get("isl"),
                osl=entry.get("osl"),
                tok_s_per_user=entry.get("tok_s_per_user"),
                baseline_gpu=entry.get("baseline_gpu"),
                baseline_weights=entry.get("baseline_weights"),
                notes=entry.get("notes", ()),
            )
        except (KeyError, TypeError, ValueError, UsageError) as exc:
            raise CatalogError(f"{origin}: evidence record {rid!r} is missing or has a bad field: {exc}") from exc
        if rid in seen:
            raise CatalogError(f"{origin}: evidence record {rid!r} appears twice")
        seen.add(rid)
        records.append(record)
    return tuple(records)


@functools.cache
def published_records() -> tuple[EvidenceRecord, ...]:
    text = resources.files(DATA_PACKAGE).joinpath(RECORDS_FILE).read_text(encoding="utf-8")
    return parse_records(tomllib.loads(text), f"evidence/data/{RECORDS_FILE}")


# ---------------------------------------------------------------------------- shipped sweeps
def _interactivity(point: Measurement) -> float:
    assert point.tpot_s is not None
    return 1.0 / point.tpot_s


def _per_gpu(point: Measurement) -> float:
    value = point.output_tok_s_per_gpu
    assert value is not None
    return value


@attrs.frozen
class FrontierPoint:
    """Output tokens/s per GPU at an interactivity, read off measured points.

    ``lower_bound`` is true when no measured curve reaches the target from both sides, so the
    value is the best measured point at or above the interactivity (a floor on what is possible).
    """

    tok_s_per_user: float
    output_tok_s_per_gpu: float
    tp: int
    concurrencies: tuple[int, ...]
    lower_bound: bool

    def describe(self) -> str:
        how = "best measured point at or above the target" if self.lower_bound else "interpolated between"
        conc = " and ".join(str(c) for c in self.concurrencies)
        return f"TP{self.tp}, {how} concurrency {conc}"


def frontier_at(points: Sequence[Measurement], tok_s_per_user: float) -> FrontierPoint | None:
    """The highest output throughput per GPU at ``tok_s_per_user`` among ``points`` (one GPU,
    engine and format). Each tensor-parallel curve that brackets the target is interpolated
    linearly; a measured point faster than the target also counts (a service can always run
    slower than it could), and when such a point wins the result is marked as a lower bound.
    None when every point is slower than the target."""
    usable = [p for p in points if p.tpot_s and p.concurrency and p.output_tok_s_per_gpu]
    candidates: list[FrontierPoint] = []
    for tp in sorted({p.tp for p in usable}):
        curve = sorted((p for p in usable if p.tp == tp), key=lambda p: p.concurrency or 0)
        for lo, hi in itertools.pairwise(curve):
            a, b = _interactivity(lo), _interactivity(hi)
            if min(a, b) <= tok_s_per_user <= max(a, b) and a != b:
                w = (a - tok_s_per_user) / (a - b)
                value = _per_gpu(lo) + w * (_per_gpu(hi) - _per_gpu(lo))
                concurrencies = (int(lo.concurrency or 0), int(hi.concurrency or 0))
                candidates.append(FrontierPoint(tok_s_per_user, value, tp, concurrencies, False))
    faster = [p for p in usable if _interactivity(p) >= tok_s_per_user]
    if faster:
        top = max(faster, key=_per_gpu)
        candidates.append(FrontierPoint(_interactivity(top), _per_gpu(top), top.tp, (int(top.concurrency or 0),), True))
    if not candidates:
        return None
    # On ties the interpolated (exact) point wins over the lower bound.
    return max(candidates, key=lambda c: (c.output_tok_s_per_gpu, not c.lower_bound))


def _sweep_source() -> tuple[Source, tuple[Measurement, ...], str]:
    from blackwell_decide.datasets import get_dataset
    from blackwell_decide.perf.ingest import load_dataset

    info = get_dataset(SWEEP_DATASET)
    return info.source, load_dataset(SWEEP_DATASET), info.catalog_model("llama-3.1-70b")


def measured_records(tok_s_per_user: float = 50.0) -> tuple[EvidenceRecord, ...]:
    """Records from the shipped 1k/1k sweep: for every GPU, engine and weight format, the output
    throughput per GPU at ``tok_s_per_user`` and the single-GPU (or smallest-TP) TPOT at the lowest
    concurrency measured."""
    source, points, model = _sweep_source()
    groups: dict[tuple[str, str, str], list[Measurement]] = {}
    for p in points:
        groups.setdefault((p.gpu, p.engine, p.weights), []).append(p)
    records: list[EvidenceRecord] = []
    for key, group in sorted(groups.items()):  # key: (gpu, engine, weights)
        point = frontier_at(group, tok_s_per_user)
        if point is not None:
            records.append(_throughput_record(source, model, key, group, point, tok_s_per_user))
        records.append(_tpot_record(source, model, key, group))
    return tuple(records)


def _throughput_record(
    source: Source,
    model: str,
    key: tuple[str, str, str],
    group: list[Measurement],
    point: FrontierPoint,
    tok_s_per_user: float,
) -> EvidenceRecord:
    """The output tok/s per GPU one GPU, engine and weight format reach at ``tok_s_per_user``."""
    gpu, engine, weights = key
    isl, osl = float(group[0].isl), float(group[0].osl)
    return EvidenceRecord(
        id=f"sweep-{gpu}-{weights}-{engine}-at-{tok_s_per_user:g}tps",
        title=f"{gpu} {weights} {engine}: output tok/s per GPU at {tok_s_per_user:g} tok/s/user "
        "(shipped InferenceMAX 1k/1k sweep)",
        model=model,
        gpu=gpu,
        num_gpus=point.tp,
        weights=weights,
        engine=engine,
        scenario=f"{tok_s_per_user:g} tok/s/user",
        metric="throughput_per_gpu",
        value=point.output_tok_s_per_gpu,
        unit="tok/s/GPU",
        token_basis=TokenBasis.OUTPUT,
        source=source,
        isl=isl,
        osl=osl,
        tok_s_per_user=point.tok_s_per_user,
        tp=point.tp,
        lower_bound=point.lower_bound,
        notes=(point.describe(), "output tokens/s per GPU = concurrency / TPOT / TP"),
    )


def _tpot_record(source: Source, model: str, key: tuple[str, str, str], group: list[Measurement]) -> EvidenceRecord:
    """The mean TPOT at the lowest concurrency measured on the smallest tensor-parallel group."""
    gpu, engine, weights = key
    isl, osl = float(group[0].isl), float(group[0].osl)
    low_tp = min(p.tp for p in group)
    first = min((p for p in group if p.tp == low_tp and p.tpot_s), key=lambda p: p.concurrency or 0)
    assert first.tpot_s is not None
    return EvidenceRecord(
        id=f"sweep-{gpu}-{weights}-{engine}-tp{low_tp}-conc{first.concurrency}-tpot",
        title=f"{gpu} {weights} {engine} TP{low_tp}: mean TPOT at concurrency {first.concurrency}",
        model=model,
        gpu=gpu,
        num_gpus=low_tp,
        weights=weights,
        engine=engine,
        scenario=f"concurrency {first.concurrency}",
        metric="tpot_s",
        value=first.tpot_s,
        unit="s",
        token_basis=None,
        source=source,
        isl=isl,
        osl=osl,
        concurrency=None if first.concurrency is None else int(first.concurrency),
        tp=low_tp,
    )


@functools.cache
def all_records() -> tuple[EvidenceRecord, ...]:
    return published_records() + measured_records()


def get_record(record_id: str, records: Iterable[EvidenceRecord] | None = None) -> EvidenceRecord:
    pool = {r.id: r for r in (records if records is not None else all_records())}
    try:
        return pool[record_id]
    except KeyError:
        raise UnknownKeyError("evidence record", record_id, pool) from None
