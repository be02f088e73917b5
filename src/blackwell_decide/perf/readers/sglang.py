"""The output of SGLang's ``python -m sglang.bench_serving --output-file`` (JSON Lines, one run
per line; the last line is read).

Layout checked against ``python/sglang/bench_serving.py`` (SGLang v0.4 to v0.5): ``backend``,
``dataset_name``, ``request_rate`` (a number or "inf"), ``max_concurrency``, the dataset
lengths, then ``duration`` (s), ``completed``, ``total_input_tokens``, ``total_output_tokens``,
``request_throughput``, ``input_throughput``, ``output_throughput``,
``mean_/median_/std_/p99_`` + ``e2e_latency``/``ttft``/``tpot``/``itl`` + ``_ms``,
``concurrency`` (SGLang's own Little's law) and, with ``--output-details``, the per-request
``input_lens``, ``output_lens``, ``ttfts`` and ``itls``. The file names no model by key in every
version (``model_id`` or ``tokenizer_id`` where present), so ``--model`` may be needed.
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

TOOL = "sglang bench_serving"
REQUIRED = (
    "duration",
    "completed",
    "total_input_tokens",
    "total_output_tokens",
    "mean_tpot_ms",
    "output_throughput",
    "mean_e2e_latency_ms",
)
HINT = "is this the --output-file of `python -m sglang.bench_serving`?"


def looks_like(data: Any) -> bool:
    if not isinstance(data, Mapping):
        return False
    return "mean_e2e_latency_ms" in data or "total_output_tokens_retokenized" in data


def read(path: Path | str, data: Mapping[str, Any], flags: DeploymentFlags) -> BenchResult:
    fields = Fields(data, path, TOOL)
    # The duration divides throughput and Little's law: zero is no measured run.
    values = {key: fields.number(key, required=True, positive=key == "duration") for key in REQUIRED}
    check_latency_fields(fields)
    fields.check(HINT)
    completed_value, duration = values["completed"], values["duration"]
    assert completed_value is not None and duration is not None
    completed = int(completed_value)
    if completed < 1:
        raise UsageError(f"{path}: no completed requests ('completed' is {data.get('completed')!r})")
    total_in, total_out, tpot = values["total_input_tokens"], values["total_output_tokens"], values["mean_tpot_ms"]
    assert total_in is not None and total_out is not None and tpot is not None
    if tpot <= 0:
        raise UsageError(f"{path}: 'mean_tpot_ms' must be positive, got {data.get('mean_tpot_ms')!r}")

    output_rate = values["output_throughput"]
    assert output_rate is not None
    check_output_rate(path, output_rate, total_out, duration)

    def ms(key: str) -> float | None:
        value = fields.number(key)
        return None if value is None else value * MS

    law, law_from = littles_law(
        completed,
        duration,
        per_request_e2e_s=per_request_e2e(data, completed),
        mean_e2e_s=ms("mean_e2e_latency_ms"),
    )
    model_id = str(data.get("model_id") or data.get("tokenizer_id") or data.get("model") or "") or None
    stats = RunStats(
        tool=TOOL,
        mean_tpot=tpot * MS,
        **latency_percentiles(ms, "e2e_latency"),
        duration_s=duration,
        completed=completed,
        num_prompts=client_cap(data.get("num_prompts") or data.get("total_requests"), "num_prompts", path),
        request_rate=request_rate(data.get("request_rate"), path),
        max_concurrency=client_cap(data.get("max_concurrency"), "max_concurrency", path),
        littles_law=law,
        littles_law_from=law_from,
        failed=int(fields.number("failed") or 0),
        spec_acceptance_length=fields.number("accept_length"),
    )
    settled = settle_deployment(data, flags, path, model_id=model_id, engine=flags.engine or "sglang")
    return build_result(
        path,
        settled,
        stats,
        mean_isl=total_in / completed,
        mean_osl=total_out / completed,
        output_tok_s=values["output_throughput"],
        date=str(data.get("date") or "n.d."),
    )
