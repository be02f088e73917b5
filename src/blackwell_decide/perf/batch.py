"""Many predictions in one go: deployments resolved once, queries of one deployment, engine and
workload answered with one vectorised simulation."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from blackwell_decide.errors import BlackwellDecideError, UsageError
from blackwell_decide.perf.evaluate import DeploymentCache
from blackwell_decide.perf.model import Prediction, max_throughput, predict
from blackwell_decide.perf.profile import check_engine
from blackwell_decide.perf.workload import Workload

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog

QUERY_COLUMNS: tuple[str, ...] = ("model", "gpu", "weights", "kv", "tp", "engine", "isl", "osl", "concurrency")


@attrs.frozen
class Query:
    """One prediction request; ``concurrency`` None asks for the maximum-throughput point."""

    row: int
    model: str
    gpu: str
    weights: str
    kv: str | None
    tp: int
    engine: str
    workload: Workload
    concurrency: int | None

    @property
    def deployment_key(self) -> tuple[str, str, str, str, int]:
        return (self.model, self.gpu, self.weights, self.kv or "", self.tp)


def _int(value: str, row: int, column: str, *, allow_max: bool = False) -> int | None:
    text = value.strip()
    if allow_max and text.lower() == "max":
        return None
    try:
        number = float(text)
    except ValueError:
        hint = " or 'max'" if allow_max else ""
        raise UsageError(
            f"row {row}, column {column!r}: expected a positive whole number{hint}, got {value!r}"
        ) from None
    if not (math.isfinite(number) and number >= 1 and number.is_integer()):
        raise UsageError(f"row {row}, column {column!r}: expected a positive whole number, got {value!r}")
    return int(number)


def read_queries(path: Path | str) -> list[Query]:
    """Queries from a CSV with columns model, gpu, weights, kv, tp, engine, isl, osl,
    concurrency (``max`` for maximum throughput; ``kv`` may be empty; extra columns ignored).
    Rows are numbered from 1 after the header."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"--from-csv {path}: no such file; check the path")
    try:
        with file.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip() for c in (reader.fieldnames or [])]
            records = [{(k or "").strip(): (v or "") for k, v in r.items()} for r in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"--from-csv {path}: cannot be read as CSV ({exc})") from None
    missing = [c for c in QUERY_COLUMNS if c not in columns]
    if missing:
        raise UsageError(f"--from-csv {path}: missing column(s) {', '.join(missing)}; needs {', '.join(QUERY_COLUMNS)}")
    queries = []
    for row, record in enumerate(records, start=1):
        for column in ("model", "gpu", "weights", "engine"):
            if not record[column].strip():
                raise UsageError(f"--from-csv {path}: row {row}, column {column!r}: missing value")
        try:
            engine = check_engine(record["engine"])
        except UsageError:
            raise UsageError(
                f"--from-csv {path}: row {row}, column 'engine': unknown engine {record['engine']!r} "
                "(vllm, trtllm or sglang)"
            ) from None
        try:
            isl = _int(record["isl"], row, "isl")
            osl = _int(record["osl"], row, "osl")
            tp = _int(record["tp"], row, "tp") if record["tp"].strip() else 1
            concurrency = _int(record["concurrency"], row, "concurrency", allow_max=True)
        except UsageError as exc:
            raise UsageError(f"--from-csv {path}: {exc}") from None
        assert isl is not None and osl is not None and tp is not None
        queries.append(
            Query(
                row=row,
                model=record["model"].strip(),
                gpu=record["gpu"].strip(),
                weights=record["weights"].strip(),
                kv=record["kv"].strip() or None,
                tp=tp,
                engine=engine,
                workload=Workload(isl, osl),
                concurrency=concurrency,
            )
        )
    return queries


def answer(queries: Sequence[Query], *, catalog: Catalog | None = None, source: str = "") -> list[Prediction]:
    """Predictions for ``queries``, in their order. A query that cannot be answered (an unknown
    GPU, weights that do not fit) raises UsageError naming its row and the offending column."""
    cache = DeploymentCache(catalog)
    where = f"{source}: " if source else ""
    groups: dict[tuple[Any, ...], list[Query]] = {}
    for q in queries:
        try:
            cache.terms(q.deployment_key)
        except BlackwellDecideError as exc:
            column = _column_of(exc, q)
            raise UsageError(f"{where}row {q.row}, column {column!r}: {exc}") from None
        groups.setdefault((q.deployment_key, q.engine, q.workload), []).append(q)
    answers: dict[int, Prediction] = {}
    for (key, engine, workload), members in groups.items():
        deployment = cache.deployment(key)
        terms = cache.terms(key)
        try:
            fixed = [q for q in members if q.concurrency is not None]
            if fixed:
                curve = predict(
                    deployment,
                    workload,
                    engine=engine,
                    concurrency=np.array([q.concurrency for q in fixed]),
                    terms=terms,
                    catalog=catalog,
                )
                for i, q in enumerate(fixed):
                    answers[q.row] = _point(curve, i)
            if len(fixed) < len(members):
                best = max_throughput(deployment, workload, engine=engine, terms=terms, catalog=catalog)
                for q in members:
                    if q.concurrency is None:
                        answers[q.row] = best
        except BlackwellDecideError as exc:
            raise UsageError(f"{where}row {members[0].row}: {exc}") from None
    return [answers[q.row] for q in queries]


def _point(curve: Prediction, index: int) -> Prediction:
    def pick(value: Any) -> float:
        return float(np.asarray(value)[index])

    binding = curve.binding if isinstance(curve.binding, str) else curve.binding[index]
    return attrs.evolve(
        curve,
        concurrency=pick(curve.concurrency),
        tpot_s=pick(curve.tpot_s),
        ttft_s=pick(curve.ttft_s),
        tok_s_per_user=pick(curve.tok_s_per_user),
        output_tok_s_per_gpu=pick(curve.output_tok_s_per_gpu),
        output_tok_s=pick(curve.output_tok_s),
        floor_tpot_s=pick(curve.floor_tpot_s),
        binding=binding,
    )


def _column_of(exc: BlackwellDecideError, query: Query) -> str:
    """Which query column an error is about, from the key it names."""
    key = str(getattr(exc, "key", "")).strip().lower()
    for column in ("model", "gpu", "weights", "kv"):
        if key and key == str(getattr(query, column) or "").strip().lower():
            return column
    return "tp" if "tensor-parallel" in str(exc) or "--tp" in str(exc) else "gpu/weights/kv/tp"
