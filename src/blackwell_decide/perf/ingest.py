"""Reading measurements: serving-sweep CSVs, published-figure tables, and benchmark result JSON
(readers in :mod:`blackwell_decide.perf.readers`), into typed :class:`Measurement` records.

Every reader raises :class:`~blackwell_decide.errors.UsageError` naming the file, the row and
the column of a bad value, never a traceback.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide import input_files
from blackwell_decide.errors import UsageError
from blackwell_decide.model import Source
from blackwell_decide.perf._cells import CellError as _CellError
from blackwell_decide.perf._cells import Problems as _Problems
from blackwell_decide.perf._cells import positive_float as _positive_float
from blackwell_decide.perf._cells import positive_int as _positive_int
from blackwell_decide.perf._cells import read_cells as _read_cells
from blackwell_decide.perf._cells import text as _text
from blackwell_decide.perf.measurement import Measurement
from blackwell_decide.perf.profile import check_engine
from blackwell_decide.perf.readers.model_ids import catalog_model_for, checkpoint_stem
from blackwell_decide.units import MS

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog

__all__ = [
    "Measurement",
    "Microbenchmark",
    "catalog_model_for",
    "checkpoint_stem",
    "load_dataset",
    "read_measurements",
    "read_microbenchmarks",
    "read_published_csv",
    "read_sweep_csv",
    "read_vllm_bench_json",
]

SWEEP_COLUMNS: tuple[str, ...] = (
    "model",
    "gpu",
    "engine",
    "weights",
    "kv",
    "tp",
    "isl",
    "osl",
    "concurrency",
    "ttft_ms",
    "tpot_ms",
)


def _engine(text: str, row: int, catalog: Catalog | None) -> str:
    lowered = text.lower()
    for needle, engine in (("tensorrt", "trtllm"), ("trt", "trtllm"), ("vllm", "vllm"), ("sglang", "sglang")):
        if needle in lowered:
            return engine
    if catalog is None:
        # Read without a catalog (the shipped data sets): only the built-in engines are known.
        from blackwell_decide.bounds.kv_room import shipped_engine_memory

        known = list(shipped_engine_memory())
        if lowered.strip() in known:
            return lowered.strip()
        raise _CellError(
            row,
            "engine",
            f"unknown engine {text!r}: choose one of {', '.join(known)}, or read the file with the "
            "catalog that registers it (catalog=)",
        )
    try:
        return check_engine(text, catalog)
    except UsageError as exc:
        raise _CellError(row, "engine", str(exc)) from None


def _open_csv(path: Path | str) -> tuple[list[dict[str, str]], list[str]]:
    file = Path(path)
    try:
        with io.StringIO(input_files.read_text(file, limit=input_files.MEASUREMENT_LIMIT), newline="") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            columns = [c.strip() for c in (reader.fieldnames or [])]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{path}: cannot be read as CSV ({exc})") from None
    return [{(k or "").strip(): v for k, v in r.items()} for r in rows], columns


# ---------------------------------------------------------------------------- sweep layout
def read_sweep_csv(
    path: Path | str,
    *,
    dataset: str | None = None,
    model_aliases: Mapping[str, str] | None = None,
    mean_length_fraction: float = 1.0,
    source: Source | None = None,
    catalog: Catalog | None = None,
) -> tuple[Measurement, ...]:
    """Measurements from a CSV in the serving-sweep layout (columns model, gpu, engine, weights,
    kv, tp, isl, osl, concurrency, ttft_ms, tpot_ms; extra columns ignored). Throughput is
    derived as concurrency / TPOT. ``mean_length_fraction`` scales the nominal lengths to the
    mean lengths actually sent. The engine column names an engine of ``catalog`` (without one:
    a built-in engine)."""
    records, columns = _open_csv(path)
    missing = [c for c in SWEEP_COLUMNS if c not in columns]
    if missing:
        raise UsageError(
            f"{path}: missing column(s) {', '.join(missing)}; the sweep layout needs {', '.join(SWEEP_COLUMNS)}"
        )
    if not records:
        raise UsageError(f"{path}: no data rows")
    aliases = {k.lower(): v for k, v in (model_aliases or {}).items()}
    name = dataset or Path(path).name
    out = []
    problems = _Problems(path)
    for number, record in enumerate(records, start=1):
        with problems.row():
            out.append(_sweep_measurement(record, number, path, name, aliases, mean_length_fraction, source, catalog))
    problems.check()
    return tuple(out)


def _sweep_measurement(
    record: Mapping[str, Any],
    number: int,
    path: Path | str,
    name: str,
    aliases: Mapping[str, str],
    mean_length_fraction: float,
    source: Source | None,
    catalog: Catalog | None,
) -> Measurement:
    """One row of the sweep layout; its bad cells, all of them, raise ``_cells.RowError``."""
    cells = _read_cells(
        {
            "model": lambda: _text(record, "model", path, number),
            "engine": lambda: _engine(_text(record, "engine", path, number), number, catalog),
            "concurrency": lambda: _positive_int(record, "concurrency", path, number),
            "tpot_ms": lambda: _positive_float(record, "tpot_ms", path, number),
            "isl": lambda: _positive_int(record, "isl", path, number),
            "osl": lambda: _positive_int(record, "osl", path, number),
            "tp": lambda: _positive_int(record, "tp", path, number),
            "gpu": lambda: _text(record, "gpu", path, number),
            "weights": lambda: _text(record, "weights", path, number),
            "kv": lambda: _text(record, "kv", path, number),
            "ttft_ms": lambda: _positive_float(record, "ttft_ms", path, number),
        }
    )
    model, concurrency, tpot = cells["model"], cells["concurrency"], cells["tpot_ms"] * MS
    isl, osl = cells["isl"], cells["osl"]
    return Measurement(
        dataset=name,
        row=number,
        model=aliases.get(model.lower(), aliases.get("*", model)),
        gpu=cells["gpu"],
        engine=cells["engine"],
        weights=cells["weights"],
        kv=cells["kv"],
        tp=cells["tp"],
        isl=isl,
        osl=osl,
        mean_isl=isl * mean_length_fraction,
        mean_osl=osl * mean_length_fraction,
        concurrency=concurrency,
        tpot_s=tpot,
        ttft_s=cells["ttft_ms"] * MS,
        output_tok_s=concurrency / tpot,
        throughput_derived=True,
        source=source,
    )


# ---------------------------------------------------------------------------- published layout
_TTFT_IN_NOTES = re.compile(r"TTFT\s+([0-9][0-9,]*\.?[0-9]*)\s*ms")
_TP_IN_TEXT = re.compile(r"\bTP\s*=?\s*(\d+)")
_CONCURRENCY = re.compile(r"concurrency\s+(\d+)")
SERVING_METRICS = ("tokens_per_s_total", "itl_ms", "tpot_ms", "ttft_ms")


#: The columns a table of published figures needs (one metric per row).
PUBLISHED_COLUMNS = (
    "id",
    "gpu",
    "num_gpus",
    "precision_weights",
    "engine",
    "isl",
    "osl",
    "concurrency_or_scenario",
    "metric",
    "value",
)


def read_published_csv(
    path: Path | str,
    *,
    dataset: str | None = None,
    model_aliases: Mapping[str, str] | None = None,
    default_kv: str = "",
    engine: str = "",
    source: Source | None = None,
    catalog: Catalog | None = None,
) -> tuple[Measurement, ...]:
    """Serving measurements from a table of published figures (one metric per row: id,
    source_url, source_date, gpu, num_gpus, precision_weights, precision_kv, engine, isl, osl,
    concurrency_or_scenario, metric, value, unit, notes). Rows of one operating point (same GPU,
    engine, precision, shape and concurrency) are merged; ``itl_ms`` is read as TPOT, a TTFT
    quoted in the notes is used, ``tokens_per_s_total`` is output tokens/s over ``num_gpus``.
    Rows with other metrics (bandwidth, GEMM, accuracy) are skipped. Engines as for
    :func:`read_sweep_csv`."""
    records, columns = _open_csv(path)
    missing = [c for c in PUBLISHED_COLUMNS if c not in columns]
    if missing:
        raise UsageError(f"{path}: missing column(s) {', '.join(missing)} of the published-figures layout")
    aliases = {k.lower(): v for k, v in (model_aliases or {}).items()}
    name = dataset or Path(path).name
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    problems = _Problems(path)
    for number, record in enumerate(records, start=1):
        metric = (record.get("metric") or "").strip()
        if metric not in SERVING_METRICS:
            continue
        with problems.row():
            cells = _published_cells(record, path, number)
            key, num_gpus = _operating_point(record, cells, number, engine, catalog)
            value = cells["value"]
            point = merged.setdefault(key, {"row": number, "ids": [], "num_gpus": num_gpus, "record": record})
            point["ids"].append(record["id"].strip())
            _add_metric(point, metric, value, record)
    problems.check()
    return tuple(
        _published_measurement(key, point, name=name, aliases=aliases, default_kv=default_kv, source=source)
        for key, point in merged.items()
    )


def _published_cells(record: Mapping[str, str], path: Path | str, number: int) -> dict[str, Any]:
    """The checked cells of one published-figures row: every bad cell named, not only the first."""
    return _read_cells(
        {
            "engine": lambda: _text(record, "engine", path, number),
            "num_gpus": lambda: _positive_int(record, "num_gpus", path, number),
            "scenario": lambda: _text(record, "concurrency_or_scenario", path, number),
            "isl": lambda: _positive_int(record, "isl", path, number),
            "osl": lambda: _positive_int(record, "osl", path, number),
            "value": lambda: _positive_float(record, "value", path, number),
        }
    )


def _operating_point(
    record: Mapping[str, str], cells: Mapping[str, Any], number: int, engine: str, catalog: Catalog | None
) -> tuple[tuple[Any, ...], int]:
    """The key that merges a row with the other metrics of its operating point (model, GPU,
    engine, weights, TP, shape, concurrency), and the row's GPU count."""
    engine_text = cells["engine"]
    row_engine = engine or _engine(engine_text, number, catalog)
    tp_match = _TP_IN_TEXT.search(f"{record.get('notes', '')} {engine_text}")
    num_gpus = int(cells["num_gpus"])
    tp = int(tp_match.group(1)) if tp_match else num_gpus
    conc_match = _CONCURRENCY.search(cells["scenario"])
    key = (
        (record.get("model") or "").strip().lower(),
        record["gpu"].strip().lower(),
        row_engine,
        record["precision_weights"].strip().lower(),
        tp,
        cells["isl"],
        cells["osl"],
        int(conc_match.group(1)) if conc_match else None,
    )
    return key, num_gpus


def _add_metric(point: dict[str, Any], metric: str, value: float, record: Mapping[str, str]) -> None:
    """One row's figure into its operating point (ITL is read as TPOT; a TTFT quoted in the notes
    fills in when no row gives one)."""
    if metric == "tokens_per_s_total":
        point["output_tok_s"] = value
    elif metric in ("itl_ms", "tpot_ms"):
        point["tpot_s"] = value * MS
    elif metric == "ttft_ms":
        point["ttft_s"] = value * MS
    ttft_note = _TTFT_IN_NOTES.search(record.get("notes", "") or "")
    if ttft_note and "ttft_s" not in point:
        point["ttft_s"] = float(ttft_note.group(1).replace(",", "")) * MS


def _published_measurement(
    key: tuple[Any, ...],
    point: Mapping[str, Any],
    *,
    name: str,
    aliases: Mapping[str, str],
    default_kv: str,
    source: Source | None,
) -> Measurement:
    _, gpu, row_engine, weights, tp, isl, osl, concurrency = key
    record = point["record"]
    model_name = (record.get("model") or "").strip()
    row_source = source
    if record.get("source_url"):
        row_source = Source(
            url=record["source_url"].strip(),
            date=(record.get("source_date") or "n.d.").strip() or "n.d.",
            kind="measured",
            title=(record.get("benchmark") or "").strip(),
        )
    return Measurement(
        dataset=name,
        row=point["row"],
        model=aliases.get(model_name.lower(), aliases.get("*", model_name)),
        gpu=gpu,
        engine=row_engine,
        weights=weights,
        kv=(record.get("precision_kv") or "").strip().lower() or default_kv,
        tp=tp,
        isl=isl,
        osl=osl,
        concurrency=concurrency,
        tpot_s=point.get("tpot_s"),
        ttft_s=point.get("ttft_s"),
        output_tok_s=point.get("output_tok_s"),
        num_gpus=point["num_gpus"],
        ids=tuple(point["ids"]),
        source=row_source,
    )


@attrs.frozen
class Microbenchmark:
    """A measured ceiling: sustained HBM bandwidth (B/s) or GEMM throughput (FLOP/s) of one GPU."""

    id: str
    gpu: str
    kind: str  # "bandwidth" or "gemm"
    value: float
    compute_format: str = ""
    source: Source | None = None


def read_microbenchmarks(path: Path | str) -> tuple[Microbenchmark, ...]:
    """Bandwidth (``hbm_bandwidth_measured``, TB/s) and GEMM (``gemm_tflops_sustained``, TFLOPS)
    rows of a published-figures table, in SI units."""
    records, _ = _open_csv(path)
    out = []
    problems = _Problems(path)
    for number, record in enumerate(records, start=1):
        metric = (record.get("metric") or "").strip()
        if metric not in ("hbm_bandwidth_measured", "gemm_tflops_sustained"):
            continue
        value = 0.0
        with problems.row():
            value = _positive_float(record, "value", path, number) * 1e12
        if not value:
            continue
        out.append(
            Microbenchmark(
                id=record["id"].strip(),
                gpu=record["gpu"].strip().lower(),
                kind="bandwidth" if metric == "hbm_bandwidth_measured" else "gemm",
                value=value,
                compute_format=(record.get("precision_weights") or "").strip().lower(),
                source=Source(
                    url=record["source_url"].strip(),
                    date=record["source_date"].strip() or "n.d.",
                    kind="measured",
                    title=(record.get("benchmark") or "").strip(),
                ),
            )
        )
    problems.check()
    return tuple(out)


# ---------------------------------------------------------------------------- result JSON
def read_vllm_bench_json(
    path: Path | str,
    *,
    catalog: Catalog,
    model: str | None = None,
    gpu: str | None = None,
    weights: str | None = None,
    kv: str | None = None,
    tp: int | None = None,
    engine: str = "vllm",
) -> Measurement:
    """One measurement from the result JSON of ``vllm bench serve --save-result`` (see
    :mod:`blackwell_decide.perf.readers.vllm` for the keys read).

    The file does not say which GPU, precision or parallelism served it: pass them, or record
    them with ``--metadata gpu=b200 weights=nvfp4 kv=fp8 tp=1`` when benchmarking (keyword
    arguments win). Without them the model comes from ``model_id``, the weights from the
    checkpoint name, the KV format from the engine's default, TP is 1. The concurrency is what
    was in flight: ``max_concurrency`` when the clients were capped and saturated it, else Little's
    law on the run (``Measurement.concurrency_basis`` says which)."""
    from blackwell_decide.perf.readers import read_bench_result

    return read_bench_result(
        path, catalog=catalog, fmt="vllm", model=model, gpu=gpu, weights=weights, kv=kv, tp=tp, engine=engine
    ).measurement


# ---------------------------------------------------------------------------- shipped data sets
def load_dataset(dataset_id: str) -> tuple[Measurement, ...]:
    """The serving measurements of a shipped data set (see :mod:`blackwell_decide.datasets`)."""
    from blackwell_decide.datasets import get_dataset

    info = get_dataset(dataset_id)
    if info.layout == "sweep":
        return read_sweep_csv(
            info.path,
            dataset=info.id,
            model_aliases=info.model_aliases,
            mean_length_fraction=info.mean_length_fraction,
            source=info.source,
        )
    return read_published_csv(
        info.path,
        dataset=info.id,
        model_aliases=info.model_aliases,
        default_kv=info.default_kv,
        engine=info.engine,
        source=info.source,
    )


def read_measurements(paths: Iterable[Path | str], *, catalog: Catalog, **deployment: Any) -> tuple[Measurement, ...]:
    """Measurements from files of any supported kind: ``.json``/``.jsonl`` is a benchmark result
    (vLLM, SGLang, GenAI-Perf, GuideLLM or InferenceX, detected from its keys; every run in it,
    with ``deployment`` keyword arguments for what it does not record), anything else a CSV in the sweep layout, or
    the published-figures layout when it has a ``metric`` column."""
    from blackwell_decide.perf.readers import read_bench_results

    out: list[Measurement] = []
    for path in paths:
        file = Path(path)
        if file.suffix.lower() in (".json", ".jsonl"):
            for result in read_bench_results(file, catalog=catalog, **deployment):
                m = result.measurement
                if m.pp > 1 or m.prefill_gpus:
                    raise UsageError(
                        f"{file}: a pipeline-parallel or prefill/decode-disaggregated run (pp {m.pp}, "
                        f"{m.prefill_gpus} prefill GPUs) cannot calibrate the tensor-parallel model; audit it with "
                        "`check-bench` instead"
                    )
                out.append(m)
            continue
        _, columns = _open_csv(file)
        if "metric" in columns and "tpot_ms" not in columns:
            out.extend(read_published_csv(file, catalog=catalog))
        else:
            out.extend(read_sweep_csv(file, catalog=catalog))
    return tuple(out)
