"""NVIDIA GenAI-Perf's ``profile_export_genai_perf.json`` (``genai-perf profile``).

Layout checked against GenAI-Perf 0.0.x as shipped with Triton 24.x/25.x
(``triton-inference-server/perf_analyzer``, ``genai-perf/genai_perf/export_data``): one object per
metric, each ``{"unit": ..., "avg", "min", "max", "std", "p25", "p50", "p75", "p90", "p95", "p99"}``
for ``request_latency``, ``time_to_first_token``, ``inter_token_latency`` (per request: (latency −
TTFT) ÷ (output tokens − 1), vLLM's TPOT), ``output_sequence_length``, ``input_sequence_length``;
``{"unit", "avg"}`` for ``request_throughput`` and ``output_token_throughput``; and
``input_config`` with the command's settings (``model``, ``concurrency`` or ``request_rate``, or
nested under ``perf_analyzer.stimulus`` in later versions). There is no duration: Little's law is
request throughput × mean request latency.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from blackwell_decide.errors import UsageError
from blackwell_decide.perf.readers.common import (
    BenchResult,
    DeploymentFlags,
    Fields,
    RunStats,
    build_result,
    client_cap,
    request_rate,
    settle_deployment,
)

TOOL = "genai-perf profile"
METRICS = (
    "request_throughput",
    "request_latency",
    "time_to_first_token",
    "inter_token_latency",
    "output_token_throughput",
    "output_sequence_length",
    "input_sequence_length",
)
_SECONDS = {"ms": 1e-3, "s": 1.0, "sec": 1.0, "us": 1e-6, "ns": 1e-9}
HINT = "is this the profile_export_genai_perf.json of `genai-perf profile`?"


def looks_like(data: Any) -> bool:
    if not isinstance(data, Mapping):
        return False
    return isinstance(data.get("inter_token_latency"), Mapping) or isinstance(data.get("time_to_first_token"), Mapping)


def _stat(data: Mapping[str, Any], metric: str, fields: Fields, stat: str, *, seconds: bool) -> float | None:
    """``data[metric][stat]``, in seconds for latencies; problems go to ``fields``."""
    entry = data.get(metric)
    if not isinstance(entry, Mapping):
        return None
    scale = 1.0
    if seconds:
        unit = str(entry.get("unit", "ms")).strip().lower()
        if unit not in _SECONDS:
            fields.bad.append(f"'{metric}.unit' is {unit!r}; expected one of {', '.join(_SECONDS)}")
            return None
        scale = _SECONDS[unit]
    sub = Fields(entry, fields.path, fields.tool)
    value = sub.number(stat, scale=scale, positive=True)  # no latency, rate or length of a run is zero
    fields.bad.extend(f"{metric}.{problem}" for problem in sub.bad)
    return value


def read(path: Path | str, data: Mapping[str, Any], flags: DeploymentFlags) -> BenchResult:
    fields = Fields(data, path, TOOL)
    for metric in METRICS:
        entry = data.get(metric)
        if not isinstance(entry, Mapping) or entry.get("avg") is None:
            fields.missing.append(f"{metric}.avg")
    values = {
        m: _stat(data, m, fields, "avg", seconds=m in ("request_latency", "time_to_first_token", "inter_token_latency"))
        for m in METRICS
    }
    stats_of = {
        (m, s): _stat(data, m, fields, s, seconds=True)
        for m in ("request_latency", "time_to_first_token", "inter_token_latency")
        for s in ("p50", "p99")
    }
    fields.check(HINT)
    tpot, rate, latency = values["inter_token_latency"], values["request_throughput"], values["request_latency"]
    out_len, in_len = values["output_sequence_length"], values["input_sequence_length"]
    assert tpot is not None and rate is not None and latency is not None and out_len is not None and in_len is not None
    if tpot <= 0 or rate <= 0:
        raise UsageError(f"{path}: inter_token_latency and request_throughput must be positive")
    config = data.get("input_config") if isinstance(data.get("input_config"), Mapping) else {}
    assert isinstance(config, Mapping)
    stimulus: Mapping[str, Any] = {}
    pa = config.get("perf_analyzer")
    if isinstance(pa, Mapping) and isinstance(pa.get("stimulus"), Mapping):
        stimulus = pa["stimulus"]
    concurrency = client_cap(config.get("concurrency", stimulus.get("concurrency")), "input_config.concurrency", path)
    offered = request_rate(config.get("request_rate", stimulus.get("request_rate")), path)
    models = config.get("model") or config.get("model_names")
    model_id = str(models[0]) if isinstance(models, list) and models else (str(models) if models else None)
    count = config.get("request_count")
    stats = RunStats(
        tool=TOOL,
        mean_tpot=tpot,
        median_tpot=stats_of[("inter_token_latency", "p50")],
        p99_tpot=stats_of[("inter_token_latency", "p99")],
        mean_ttft=values["time_to_first_token"],
        median_ttft=stats_of[("time_to_first_token", "p50")],
        p99_ttft=stats_of[("time_to_first_token", "p99")],
        mean_e2e=latency,
        median_e2e=stats_of[("request_latency", "p50")],
        p99_e2e=stats_of[("request_latency", "p99")],
        completed=int(count) if isinstance(count, int) and count > 0 else 0,
        num_prompts=int(count) if isinstance(count, int) and count > 0 else None,
        request_rate=offered,
        max_concurrency=concurrency,
        littles_law=rate * latency,
        littles_law_from="request throughput × mean request latency",
    )
    settled = settle_deployment(data, flags, path, model_id=model_id, engine=flags.engine or "vllm")
    return build_result(
        path,
        settled,
        stats,
        mean_isl=in_len,
        mean_osl=out_len,
        output_tok_s=values["output_token_throughput"],
        date="n.d.",
    )
