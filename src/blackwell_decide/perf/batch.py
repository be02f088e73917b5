"""Many predictions in one go: deployments resolved once, queries of one deployment, engine and
workload answered with one vectorised simulation. All or nothing: a batch with a bad row is
answered with the list of every bad row (row, column, problem), never with part of the answers."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from blackwell_decide import input_files
from blackwell_decide.errors import BlackwellDecideError, UsageError
from blackwell_decide.perf._prediction import Prediction
from blackwell_decide.perf.evaluate import DeploymentCache
from blackwell_decide.perf.feasibility import RequestDoesNotFitError
from blackwell_decide.perf.model import max_throughput, predict
from blackwell_decide.perf.profile import check_engine, engine_keys
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


@attrs.frozen
class RowProblem:
    """What is wrong with one query row: its number (from 1 after the header), the column and
    the problem."""

    row: int
    column: str
    problem: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column!r}: {self.problem}"


class BatchError(UsageError):
    """Queries with bad rows: ``problems`` lists every one, in row order."""

    def __init__(self, source: str, problems: Sequence[RowProblem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: p.row))
        rows = len({p.row for p in self.problems})
        lines = "\n".join(f"  {p}" for p in self.problems)
        where = f"{source}: " if source else ""
        super().__init__(
            f"{where}{rows} bad row(s), nothing was predicted; fix every row below and run again:\n{lines}"
        )


def _whole(value: str, *, allow_max: bool = False) -> int | None:
    """A positive whole number (``max`` gives None where allowed); ValueError says what was expected."""
    text = value.strip()
    if allow_max and text.lower() == "max":
        return None
    expected = "a positive whole number" + (" or 'max'" if allow_max else "")
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"expected {expected}, got {value!r}") from None
    if not (math.isfinite(number) and number >= 1 and number.is_integer()):
        raise ValueError(f"expected {expected}, got {value!r}")
    return int(number)


def _records(path: Path | str) -> list[dict[str, str]]:
    """The rows of the query CSV at ``path``, keyed by column; a file that cannot be read or
    lacks a column raises UsageError."""
    try:
        text = input_files.read_text(Path(path))  # names a folder, a device or a missing file as such
    except input_files.InputFileError as exc:
        raise UsageError(f"--from-csv {exc}") from None
    try:
        with io.StringIO(text, newline="") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip() for c in (reader.fieldnames or [])]
            records = [{(k or "").strip(): (v or "") for k, v in r.items()} for r in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"--from-csv {path}: cannot be read as CSV ({exc})") from None
    missing = [c for c in QUERY_COLUMNS if c not in columns]
    if missing:
        raise UsageError(f"--from-csv {path}: missing column(s) {', '.join(missing)}; needs {', '.join(QUERY_COLUMNS)}")
    return records


def parse_queries(path: Path | str, *, catalog: Catalog) -> tuple[list[Query], list[RowProblem]]:
    """Queries from a CSV with columns model, gpu, weights, kv, tp, engine, isl, osl,
    concurrency (``max`` for maximum throughput; ``kv`` may be empty; extra columns ignored),
    and the problems of every row that is not a valid query. Rows are numbered from 1 after the
    header; an engine must be one ``catalog`` registers. A missing file or missing columns raise
    UsageError at once."""
    records = _records(path)
    queries: list[Query] = []
    problems: list[RowProblem] = []
    for row, record in enumerate(records, start=1):
        mine: list[RowProblem] = []
        for column in ("model", "gpu", "weights", "engine"):
            if not record[column].strip():
                mine.append(RowProblem(row, column, "missing value"))
        engine = ""
        if record["engine"].strip():
            try:
                engine = check_engine(record["engine"], catalog)
            except UsageError:
                known = ", ".join(engine_keys(catalog))
                mine.append(RowProblem(row, "engine", f"unknown engine {record['engine']!r} (registered: {known})"))
        numbers: dict[str, int | None] = {"tp": 1}
        for column in ("isl", "osl", "tp", "concurrency"):
            if column == "tp" and not record["tp"].strip():
                continue
            try:
                numbers[column] = _whole(record[column], allow_max=column == "concurrency")
            except ValueError as exc:
                mine.append(RowProblem(row, column, str(exc)))
        if mine:
            problems.extend(mine)
            continue
        isl, osl, tp = numbers["isl"], numbers["osl"], numbers["tp"]
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
                concurrency=numbers["concurrency"],
            )
        )
    return queries, problems


def read_queries(path: Path | str, *, catalog: Catalog) -> list[Query]:
    """The queries of a CSV (see :func:`parse_queries`); :class:`BatchError` listing every bad
    row when there is one."""
    queries, problems = parse_queries(path, catalog=catalog)
    if problems:
        raise BatchError(f"--from-csv {path}", problems)
    return queries


def predict_queries(queries: Sequence[Query], *, catalog: Catalog) -> tuple[dict[int, Prediction], list[RowProblem]]:
    """Predictions by row number for the queries that can be answered, and the problem of
    every one that cannot (an unknown GPU, weights that do not fit, a request longer than the
    model's context or larger than the KV cache)."""
    cache = DeploymentCache(catalog)
    problems: list[RowProblem] = []
    groups: dict[tuple[Any, ...], list[Query]] = {}
    for q in queries:
        try:
            cache.terms(q.deployment_key)
        except BlackwellDecideError as exc:
            problems.append(RowProblem(q.row, _column_of(exc, q), str(exc)))
            continue
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
            column = "isl/osl" if isinstance(exc, RequestDoesNotFitError) else _column_of(exc, members[0])
            problems.extend(RowProblem(q.row, column, str(exc)) for q in members)
    return answers, problems


def answer(queries: Sequence[Query], *, catalog: Catalog, source: str = "") -> list[Prediction]:
    """Predictions for ``queries``, in their order; all or nothing: :class:`BatchError` naming
    the row, the column and the problem of every query that cannot be answered."""
    answers, problems = predict_queries(queries, catalog=catalog)
    if problems:
        raise BatchError(source, problems)
    return [answers[q.row] for q in queries]


def answer_csv(path: Path | str, *, catalog: Catalog) -> tuple[list[Query], list[Prediction]]:
    """Every query of a CSV file and its prediction, all or nothing: :class:`BatchError` lists
    every bad row (unreadable values and unanswerable queries alike) at once."""
    queries, problems = parse_queries(path, catalog=catalog)
    answers, unanswerable = predict_queries(queries, catalog=catalog)
    if problems or unanswerable:
        raise BatchError(f"--from-csv {path}", [*problems, *unanswerable])
    return queries, [answers[q.row] for q in queries]


def _point(curve: Prediction, index: int) -> Prediction:
    return curve.at(index)


def _column_of(exc: BlackwellDecideError, query: Query) -> str:
    """Which query column an error is about, from the key it names."""
    key = str(getattr(exc, "key", "")).strip().lower()
    for column in ("model", "gpu", "weights", "kv"):
        if key and key == str(getattr(query, column) or "").strip().lower():
            return column
    return "tp" if "tensor-parallel" in str(exc) or "--tp" in str(exc) else "gpu/weights/kv/tp"
