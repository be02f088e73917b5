"""Benchmark result files of the serving benchmarks people run, read into one
:class:`~blackwell_decide.perf.readers.common.BenchResult` (the :class:`Measurement` that
``calibrate`` fits and the run statistics ``check-bench`` diagnoses). One module per tool; the
format is detected from the file's keys or named with ``fmt``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from blackwell_decide.errors import UsageError
from blackwell_decide.perf.readers import genai_perf, sglang, vllm
from blackwell_decide.perf.readers.common import BenchResult, DeploymentFlags, RunStats, load_json

#: Format name -> reader module, in detection order (the most specific layouts first).
READERS: dict[str, ModuleType] = {"genai-perf": genai_perf, "sglang": sglang, "vllm": vllm}


def detect_format(data: Any, path: Path | str = "result") -> str:
    """The name of the reader whose layout ``data`` has; UsageError listing the formats when none."""
    if isinstance(data, Mapping):
        for name, module in READERS.items():
            if module.looks_like(data):
                return name
    known = ", ".join(f"{name} ({module.TOOL})" for name, module in READERS.items())
    raise UsageError(f"{path}: not a benchmark result this tool reads; the formats it reads are {known}")


def read_bench_result(
    path: Path | str,
    *,
    fmt: str | None = None,
    model: str | None = None,
    gpu: str | None = None,
    weights: str | None = None,
    kv: str | None = None,
    tp: int | None = None,
    pp: int | None = None,
    prefill_gpus: int | None = None,
    engine: str | None = None,
) -> BenchResult:
    """One benchmark result file, in the format named by ``fmt`` or detected from its keys.
    Keyword arguments override what the file records about the deployment."""
    data = load_json(path, "benchmark result")
    name = fmt or detect_format(data, path)
    if name not in READERS:
        raise UsageError(f"--format {name!r}: not a result format this tool reads; use one of {', '.join(READERS)}")
    if not isinstance(data, Mapping):
        raise UsageError(f"{path}: expected a JSON object as {READERS[name].TOOL} writes")
    flags = DeploymentFlags(model, gpu, weights, kv, tp, pp, prefill_gpus, engine)
    result: BenchResult = READERS[name].read(path, data, flags)
    return result


__all__ = ["READERS", "BenchResult", "DeploymentFlags", "RunStats", "detect_format", "read_bench_result"]
