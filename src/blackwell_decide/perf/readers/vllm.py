"""The result JSON of ``vllm bench serve --save-result`` (and the older
``benchmarks/benchmark_serving.py --save-result``, which writes the same keys).

Layout checked against vLLM's ``vllm/benchmarks/serve.py`` (v0.10 to v0.11) and
``benchmarks/benchmark_serving.py`` (v0.6 to v0.9): top-level ``date``, ``backend`` or
``endpoint_type``, ``model_id``, ``num_prompts``, ``request_rate`` (a number, or ``"inf"``),
``burstiness``, ``max_concurrency`` (null when not capped), then the metrics ``duration`` (s),
``completed``, ``total_input_tokens``, ``total_output_tokens``, ``request_throughput``,
``output_throughput`` (output tok/s), ``mean_/median_/std_/p99_`` + ``ttft``/``tpot``/``itl``/
``e2el`` + ``_ms``, and with ``--save-detailed`` (always, before v0.7) the per-request arrays
``input_lens``, ``output_lens``, ``ttfts`` (s), ``itls`` (lists of s) and ``errors``.
``--metadata KEY=VALUE`` pairs land at the top level as strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from blackwell_decide.errors import UsageError
from blackwell_decide.perf.readers._rates import check_output_rate
from blackwell_decide.perf.readers.common import (
    BenchResult,
    DeploymentFlags,
    Fields,
    RunStats,
    build_result,
    check_latency_fields,
    client_cap,
    latency_percentiles,
    littles_law,
    per_request_e2e,
    request_rate,
    settle_deployment,
)
from blackwell_decide.units import MS

TOOL = "vllm bench serve"
REQUIRED = ("completed", "total_input_tokens", "total_output_tokens", "mean_tpot_ms", "output_throughput")
HINT = "is this the result JSON of `vllm bench serve --save-result`?"


def looks_like(data: Any) -> bool:
    """vLLM's flat keys (tried last: SGLang's layout shares many of them)."""
    if not isinstance(data, Mapping):
        return False
    return any(key in data for key in ("mean_tpot_ms", "output_throughput", "total_output_tokens", "mean_e2el_ms"))


def _totals(path: Path | str, data: Mapping[str, Any], fields: Fields) -> tuple[dict[str, float], float | None]:
    """The run's required figures (positive where they divide) and its duration, every bad field
    named in one error, and the reported output rate checked against tokens over time."""
    values = {
        key: fields.number(key, required=True, positive=key in ("completed", "mean_tpot_ms", "output_throughput"))
        for key in REQUIRED
    }
    check_latency_fields(fields)
    duration = fields.number("duration", positive=True)  # 0 s is no measured run, and would divide as one
    fields.check(HINT)
    checked = {key: value for key, value in values.items() if value is not None}
    if int(checked["completed"]) < 1:
        raise UsageError(f"{path}: no completed requests ('completed' is {data.get('completed')!r})")
    check_output_rate(path, checked["output_throughput"], checked["total_output_tokens"], duration)
    return checked, duration


def read(path: Path | str, data: Mapping[str, Any], flags: DeploymentFlags) -> BenchResult:
    fields = Fields(data, path, TOOL)
    values, duration = _totals(path, data, fields)
    completed = int(values["completed"])
    total_in, total_out, tpot = values["total_input_tokens"], values["total_output_tokens"], values["mean_tpot_ms"]

    def ms(key: str) -> float | None:
        value = fields.number(key)
        return None if value is None else value * MS

    mean_osl = total_out / completed
    law, law_from = littles_law(
        completed,
        duration,
        per_request_e2e_s=per_request_e2e(data, completed),
        mean_e2e_s=ms("mean_e2el_ms"),
        mean_ttft_s=ms("mean_ttft_ms"),
        mean_tpot_s=tpot * MS,
        mean_osl=mean_osl,
    )
    num_prompts = data.get("num_prompts")
    stats = RunStats(
        tool=TOOL,
        mean_tpot=tpot * MS,
        **latency_percentiles(ms, "e2el"),
        duration_s=duration,
        completed=completed,
        num_prompts=client_cap(num_prompts, "num_prompts", path),
        request_rate=request_rate(data.get("request_rate"), path),
        max_concurrency=client_cap(data.get("max_concurrency"), "max_concurrency", path),
        littles_law=law,
        littles_law_from=law_from,
        failed=int(fields.number("failed") or 0),
        spec_acceptance_length=fields.number("spec_decode_acceptance_length"),
    )
    settled = settle_deployment(
        data, flags, path, model_id=str(data.get("model_id") or "") or None, engine=flags.engine or "vllm"
    )
    return build_result(
        path,
        settled,
        stats,
        mean_isl=total_in / completed,
        mean_osl=mean_osl,
        output_tok_s=values["output_throughput"],
        date=str(data.get("date") or "n.d."),
    )
