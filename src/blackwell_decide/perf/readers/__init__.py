"""Benchmark result files of the serving benchmarks people run, read into one
:class:`~blackwell_decide.perf.readers.common.BenchResult` per run (the :class:`Measurement` that
``calibrate`` fits and the run statistics ``check-bench`` diagnoses). One module per tool; the
format is detected from the file's keys or named with ``fmt``. A file may hold several runs
(a GuideLLM sweep, a list of InferenceX rows): :func:`read_bench_results` returns them all,
:func:`read_bench_result` the one ``index`` names."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from blackwell_decide.errors import UsageError
from blackwell_decide.perf.readers import genai_perf, guidellm, inferencex, sglang, vllm
from blackwell_decide.perf.readers.common import BenchResult, DeploymentFlags, RunStats, load_json

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog

#: Format name -> reader module, in detection order (the most specific layouts first).
READERS: dict[str, ModuleType] = {
    "guidellm": guidellm,
    "inferencex": inferencex,
    "genai-perf": genai_perf,
    "sglang": sglang,
    "vllm": vllm,
}


def detect_format(data: Any, path: Path | str = "result") -> str:
    """The name of the reader whose layout ``data`` has; UsageError listing the formats when none."""
    for name, module in READERS.items():
        if module.looks_like(data):
            return name
    known = ", ".join(f"{name} ({module.TOOL})" for name, module in READERS.items())
    raise UsageError(f"{path}: not a benchmark result this tool reads; the formats it reads are {known}")


def read_bench_results(
    path: Path | str,
    *,
    catalog: Catalog,
    fmt: str | None = None,
    model: str | None = None,
    gpu: str | None = None,
    weights: str | None = None,
    kv: str | None = None,
    tp: int | None = None,
    pp: int | None = None,
    prefill_gpus: int | None = None,
    engine: str | None = None,
) -> tuple[BenchResult, ...]:
    """Every run in one benchmark result file, in the format named by ``fmt`` or detected from
    its keys. Keyword arguments override what the file records about the deployment; names
    resolve against ``catalog``."""
    data = load_json(path, "benchmark result")
    name = fmt or detect_format(data, path)
    if name not in READERS:
        raise UsageError(f"--format {name!r}: not a result format this tool reads; use one of {', '.join(READERS)}")
    module = READERS[name]
    flags = DeploymentFlags(model, gpu, weights, kv, tp, pp, prefill_gpus, engine, catalog=catalog)
    if hasattr(module, "read_all"):
        results: list[BenchResult] = module.read_all(path, data, flags)
        return tuple(results)
    if not isinstance(data, Mapping):
        raise UsageError(f"{path}: expected a JSON object as {module.TOOL} writes")
    result: BenchResult = module.read(path, data, flags)
    return (result,)


def read_bench_result(path: Path | str, *, catalog: Catalog, index: int | None = None, **options: Any) -> BenchResult:
    """One run of a benchmark result file: the only one, or the one at ``index`` (from 0) when
    the file holds several (UsageError listing them when ``index`` is not given)."""
    results = read_bench_results(path, catalog=catalog, **options)
    if index is None:
        if len(results) == 1:
            return results[0]
        listing = "; ".join(f"{i}: {r.label}" for i, r in enumerate(results))
        raise UsageError(f"{path}: holds {len(results)} runs; pick one with --index N ({listing})")
    if not 0 <= index < len(results):
        raise UsageError(f"--index {index}: {path} holds runs 0 to {len(results) - 1}")
    return results[index]


__all__ = [
    "READERS",
    "BenchResult",
    "DeploymentFlags",
    "RunStats",
    "detect_format",
    "read_bench_result",
    "read_bench_results",
]
