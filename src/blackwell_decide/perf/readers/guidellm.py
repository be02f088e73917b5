"""GuideLLM's benchmark report (``guidellm benchmark ... --output-path benchmarks.json``).

Layout checked against GuideLLM v0.2 (``src/guidellm/benchmark/benchmark.py`` and
``output.py`` of vllm-project/guidellm, formerly neuralmagic/guidellm): a report
``{"benchmarks": [...]}``, one entry per strategy of the profile (a sweep holds several), each
with ``args.strategy`` (``type_`` synchronous, concurrent with ``streams``, throughput, constant
or poisson with ``rate``), ``start_time``/``end_time`` (epoch seconds), ``request_totals``
(``successful``, ``errored``, ``incomplete``, ``total``), ``worker.backend_model`` and ``metrics``:
per metric a breakdown ``successful``/``errored``/``incomplete``/``total`` of distribution
summaries (``mean``, ``median``, ``std_dev``, ``count``, ``total_sum``, ``percentiles.p99`` ...).
``request_latency`` is in seconds, ``time_to_first_token_ms`` and ``inter_token_latency_ms`` in
ms; GuideLLM's ``inter_token_latency_ms`` is (last token − first token) ÷ (output tokens − 1),
which is vLLM's TPOT (its ``time_per_output_token_ms`` divides by all output tokens instead).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from blackwell_decide.errors import UsageError
from blackwell_decide.input_schema import NumberRule, ValueProblem, checked_number
from blackwell_decide.perf.readers.common import (
    BenchResult,
    DeploymentFlags,
    Fields,
    RunStats,
    build_result,
    littles_law,
    settle_deployment,
)

TOOL = "guidellm benchmark"
HINT = "is this the JSON report of `guidellm benchmark --output-path`?"
#: metric -> seconds per unit of the file (None for token counts)
METRICS: dict[str, float | None] = {
    "inter_token_latency_ms": 1e-3,
    "time_to_first_token_ms": 1e-3,
    "request_latency": 1.0,
    "prompt_token_count": None,
    "output_token_count": None,
}


def looks_like(data: Any) -> bool:
    return isinstance(data, Mapping) and isinstance(data.get("benchmarks"), list)


def _summary(benchmark: Mapping[str, Any], metric: str) -> Mapping[str, Any] | None:
    metrics = benchmark.get("metrics")
    entry = metrics.get(metric) if isinstance(metrics, Mapping) else None
    successful = entry.get("successful") if isinstance(entry, Mapping) else None
    return successful if isinstance(successful, Mapping) else None


def _strategy(benchmark: Mapping[str, Any], where: str) -> tuple[float | None, int | None, str]:
    """(request rate, client cap, description) of the benchmark's scheduling strategy."""
    args = benchmark.get("args")
    strategy = args.get("strategy") if isinstance(args, Mapping) else None
    if not isinstance(strategy, Mapping):
        return None, None, "unknown strategy"
    kind = str(strategy.get("type_", "")).lower()
    if kind == "synchronous":
        return None, 1, "synchronous (one request at a time)"
    if kind == "concurrent":
        streams = checked_number(strategy.get("streams"), NumberRule(minimum=1, whole=True))
        if isinstance(streams, ValueProblem):
            raise UsageError(
                f"{where}: args.strategy.streams: {streams.message}; it counts concurrent clients, 1 or more"
            )
        return None, int(streams), f"concurrent, {int(streams)} streams"
    if kind in ("constant", "poisson"):
        rate = checked_number(strategy.get("rate"), NumberRule(positive=True))
        if isinstance(rate, ValueProblem):
            raise UsageError(f"{where}: args.strategy.rate: {rate.message}; it is the requests/s sent, above zero")
        return rate, None, f"{kind}, {rate:g} requests/s"
    return None, None, kind or "unknown strategy"


def _read_one(path: Path | str, number: int, benchmark: Any, flags: DeploymentFlags) -> BenchResult:
    where = f"{path}: benchmarks[{number}]"
    if not isinstance(benchmark, Mapping):
        raise UsageError(f"{where}: expected an object")
    fields = Fields({}, where, TOOL)
    values = _metric_values(benchmark, where, fields)
    totals = benchmark.get("request_totals")
    completed_raw = totals.get("successful") if isinstance(totals, Mapping) else None
    if completed_raw is None:
        fields.missing.append("request_totals.successful")
    for key in ("start_time", "end_time"):
        if benchmark.get(key) is None:
            fields.missing.append(key)
    times = Fields(benchmark, where, TOOL)
    start, end = times.number("start_time"), times.number("end_time")
    fields.bad.extend(times.bad)
    # Every missing or malformed field is reported at once, before any check on the values.
    fields.check(HINT)
    if not isinstance(completed_raw, int) or completed_raw < 1:
        raise UsageError(f"{where}: no successful requests (request_totals.successful is {completed_raw!r})")
    assert start is not None and end is not None
    duration = end - start
    if duration <= 0:
        raise UsageError(f"{where}: end_time {end} is not after start_time {start}")
    tpot = values[("inter_token_latency_ms", "mean")]
    if not tpot:
        raise UsageError(f"{where}: metrics.inter_token_latency_ms.successful.mean must be positive")
    stats = _run_stats(benchmark, where, values, totals, completed_raw, duration, tpot)
    worker = benchmark.get("worker")
    model_id = worker.get("backend_model") if isinstance(worker, Mapping) else None
    settled = settle_deployment(
        {}, flags, path, model_id=str(model_id) if model_id else None, engine=flags.engine or "vllm"
    )
    mean_osl = values[("output_token_count", "mean")]
    mean_isl = values[("prompt_token_count", "mean")]
    assert mean_osl is not None and mean_isl is not None
    output_sum = values.get(("output_token_count", "total_sum"))
    return build_result(
        path,
        settled,
        stats,
        mean_isl=mean_isl,
        mean_osl=mean_osl,
        output_tok_s=(output_sum / duration) if output_sum else mean_osl * completed_raw / duration,
        date=_dt.datetime.fromtimestamp(start, tz=_dt.UTC).date().isoformat(),
    )


def _metric_values(benchmark: Mapping[str, Any], where: str, fields: Fields) -> dict[tuple[str, str], float | None]:
    """(metric, statistic) -> value in seconds (or tokens) for every metric of :data:`METRICS`
    the benchmark holds; a missing or malformed one is noted on ``fields`` for the caller to report."""
    summaries: dict[str, Mapping[str, Any]] = {}
    for metric in METRICS:
        summary = _summary(benchmark, metric)
        if summary is None or summary.get("mean") is None:
            fields.missing.append(f"metrics.{metric}.successful.mean")
        else:
            summaries[metric] = summary
    values: dict[tuple[str, str], float | None] = {}
    for metric, summary in summaries.items():
        scale = METRICS[metric] or 1.0
        sub = Fields(summary, where, TOOL)
        # A zero mean, median or p99 latency or token count is no measured run.
        values[(metric, "mean")] = sub.number("mean", scale=scale, positive=True)
        values[(metric, "median")] = sub.number("median", scale=scale, positive=True)
        values[(metric, "total_sum")] = sub.number("total_sum")
        percentiles = summary.get("percentiles")
        if isinstance(percentiles, Mapping):
            p99 = Fields(percentiles, where, TOOL)
            values[(metric, "p99")] = p99.number("p99", scale=scale, positive=True)
            sub.bad.extend(f"percentiles.{b}" for b in p99.bad)
        fields.bad.extend(f"metrics.{metric}.successful.{b}" for b in sub.bad)
    return values


def _run_stats(
    benchmark: Mapping[str, Any],
    where: str,
    values: Mapping[tuple[str, str], float | None],
    totals: Any,
    completed: int,
    duration: float,
    tpot: float,
) -> RunStats:
    """What the run measured (latencies, request counts, concurrency by Little's law) and how it was scheduled."""
    rate, cap, described = _strategy(benchmark, where)
    law, law_from = littles_law(completed, duration, mean_e2e_s=values[("request_latency", "mean")])
    total = totals.get("total") if isinstance(totals, Mapping) else None
    return RunStats(
        tool=f"{TOOL} ({described})",
        mean_tpot=tpot,
        median_tpot=values.get(("inter_token_latency_ms", "median")),
        p99_tpot=values.get(("inter_token_latency_ms", "p99")),
        mean_ttft=values[("time_to_first_token_ms", "mean")],
        median_ttft=values.get(("time_to_first_token_ms", "median")),
        p99_ttft=values.get(("time_to_first_token_ms", "p99")),
        mean_e2e=values[("request_latency", "mean")],
        median_e2e=values.get(("request_latency", "median")),
        p99_e2e=values.get(("request_latency", "p99")),
        duration_s=duration,
        completed=completed,
        num_prompts=total if isinstance(total, int) and total > 0 else None,
        request_rate=rate,
        max_concurrency=cap,
        littles_law=law,
        littles_law_from=law_from,
        failed=sum(
            v for k in ("errored", "incomplete") if isinstance(totals, Mapping) and isinstance(v := totals.get(k), int)
        ),
    )


def read_all(path: Path | str, data: Any, flags: DeploymentFlags) -> list[BenchResult]:
    if not looks_like(data):
        raise UsageError(f'{path}: expected {{"benchmarks": [...]}} ({HINT})')
    benchmarks = data["benchmarks"]
    if not benchmarks:
        raise UsageError(f"{path}: the report holds no benchmarks")
    return [_read_one(path, i, b, flags) for i, b in enumerate(benchmarks)]


def read(path: Path | str, data: Mapping[str, Any], flags: DeploymentFlags) -> BenchResult:
    results = read_all(path, data, flags)
    if len(results) != 1:
        raise UsageError(f"{path}: holds {len(results)} benchmarks; pick one with --index N")
    return results[0]
