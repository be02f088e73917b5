"""InferenceX (formerly InferenceMAX) result rows: the ``agg_*.json`` that SemiAnalysis's
``utils/process_result.py`` writes from each benchmark_serving run, one object per run, or a list
of them (as the dashboards collect them).

Layout checked against ``utils/process_result.py`` of SemiAnalysisAI/InferenceX (commit 77f3e68;
the older 00e51cc layout lacks ``isl``/``osl``): ``hw`` (the runner: h100, b200, mi355x, ...),
``conc`` (the client's max_concurrency), ``model`` (the checkpoint id), ``framework``,
``precision``, ``spec_decoding``, ``disagg``, ``isl``, ``osl``, ``is_multinode``; single node:
``tp``, ``ep``, ``dp_attention``; multinode: ``decode_tp``, ``num_decode_gpu``,
``num_prefill_gpu``, ``decode_num_workers``; ``tput_per_gpu`` and ``output_tput_per_gpu``
(tokens/s per GPU); and every ``*_ms`` statistic of the run renamed without ``_ms`` and divided by
1000 (``mean_tpot``, ``median_tpot``, ``p99_tpot``, ``mean_ttft``, ``mean_e2el`` ... in seconds).
There is no duration or request count, so the concurrency is ``conc``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.errors import BlackwellDecideError, UsageError
from blackwell_decide.perf.readers.common import (
    BenchResult,
    DeploymentFlags,
    Fields,
    RunStats,
    build_result,
    client_cap,
    settle_deployment,
)

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog

TOOL = "InferenceX result"
REQUIRED = ("hw", "conc", "model", "framework", "precision", "isl", "osl", "output_tput_per_gpu", "mean_tpot")
HINT = "is this an agg_*.json result row of InferenceX (InferenceMAX)?"
#: InferenceX's benchmark client draws random lengths at --random-range-ratio 0.8: 80-100 % of
#: nominal, mean 0.9 x nominal (the shipped InferenceMAX sweep is read the same way).
MEAN_LENGTH_FRACTION = 0.9
_FRAMEWORKS = (("trt", "trtllm"), ("sglang", "sglang"), ("vllm", "vllm"))


def looks_like(data: Any) -> bool:
    rows = data if isinstance(data, list) else [data]
    return bool(rows) and all(isinstance(r, Mapping) and "hw" in r and "conc" in r for r in rows)


def _gpu(hw: str, catalog: Catalog) -> str:
    """The catalog accelerator an InferenceX runner name means (``b200-nv`` -> b200)."""
    accelerators = catalog.accelerators
    for candidate in (hw, hw.split("-", maxsplit=1)[0], hw.split("_", maxsplit=1)[0]):
        try:
            return accelerators.get(candidate).key
        except BlackwellDecideError:
            continue
    return hw  # resolving it later gives the catalog's own "did you mean" error


def _weights(precision: str, gpu: str, catalog: Catalog) -> str:
    """InferenceX says "fp4": NVFP4 on NVIDIA GPUs, MXFP4 on AMD ones."""
    if precision.lower() != "fp4":
        return precision.lower()
    try:
        vendor = catalog.accelerators.get(gpu).vendor
    except BlackwellDecideError:
        vendor = "nvidia"
    return "mxfp4" if vendor == "amd" else "nvfp4"


@attrs.frozen
class _Numbers:
    """The checked numbers of one row: every ``mean_``/``median_``/``pNN_`` statistic (seconds)
    and the per-GPU output rate and nominal lengths."""

    seconds: dict[str, float | None]
    tpot: float
    per_gpu: float
    isl: float
    osl: float


def _numbers(row: Mapping[str, Any], where: str) -> _Numbers:
    """Every missing and bad field of ``row`` named in one error, else its numbers."""
    fields = Fields(row, where, TOOL)
    for key in REQUIRED:
        if row.get(key) is None or row.get(key) == "":
            fields.missing.append(key)
    for key in ("decode_tp", "num_decode_gpu", "num_prefill_gpu") if row.get("is_multinode") else ("tp",):
        if row.get(key) is None:
            fields.missing.append(key)
    tpot = fields.number("mean_tpot", positive=True)  # 0 s per token is no measured run
    # A zero latency or interactivity statistic is no measured run (a zero median TPOT printed
    # "inf× its median"); only a spread (std_) may be zero.
    seconds = {
        key: fields.number(key, positive=not key.startswith("std_"))
        for key in row
        if isinstance(key, str) and key.split("_", 1)[0] in ("mean", "median", "std", "p99", "p90", "p95")
    }
    per_gpu = fields.number("output_tput_per_gpu")
    isl, osl = fields.number("isl", positive=True), fields.number("osl", positive=True)
    fields.check(HINT)
    assert tpot is not None and per_gpu is not None and isl is not None and osl is not None
    return _Numbers(seconds, tpot, per_gpu, isl, osl)


def _notes(row: Mapping[str, Any], numbers: _Numbers) -> list[str]:
    notes = [
        f"lengths {MEAN_LENGTH_FRACTION:g} × the nominal {numbers.isl:g}/{numbers.osl:g}: InferenceX draws random "
        "lengths at --random-range-ratio 0.8 and records only the nominal ones"
    ]
    spec = str(row.get("spec_decoding") or "none").lower()
    if spec not in ("none", "false", "off", ""):
        notes.append(f"speculative decoding ({spec}) was on: a TPOT below the floor is expected")
    return notes


def _recorded(row: Mapping[str, Any], where: str, flags: DeploymentFlags) -> tuple[dict[str, Any], int | None]:
    """The deployment the row records, in settle_deployment's keys, and its decode GPUs when it
    ran across nodes (None on one node)."""
    recorded: dict[str, Any] = {"engine": _engine(str(row["framework"]), where)}
    recorded["gpu"] = _gpu(str(row["hw"]), flags.catalog)
    recorded["weights"] = _weights(str(row["precision"]), flags.gpu or recorded["gpu"], flags.catalog)
    if not row.get("is_multinode"):
        recorded["tp"] = row["tp"]
        return recorded, None
    workers = row.get("decode_num_workers", 1)
    if workers != 1:
        raise UsageError(
            f"{where}: {workers} decode workers share the {row['conc']} clients; only one decode instance is "
            "modelled (audit one worker's share with a vLLM/SGLang result of it instead)"
        )
    recorded["tp"], recorded["prefill_gpus"] = row["decode_tp"], row["num_prefill_gpu"]
    return recorded, client_cap(row["num_decode_gpu"], "num_decode_gpu", where)


def _stats(numbers: _Numbers, conc: int | None) -> RunStats:
    seconds = numbers.seconds
    return RunStats(
        tool=TOOL,
        mean_tpot=numbers.tpot,
        median_tpot=seconds.get("median_tpot"),
        p99_tpot=seconds.get("p99_tpot"),
        mean_itl=seconds.get("mean_itl"),
        median_itl=seconds.get("median_itl"),
        p99_itl=seconds.get("p99_itl"),
        mean_ttft=seconds.get("mean_ttft"),
        median_ttft=seconds.get("median_ttft"),
        p99_ttft=seconds.get("p99_ttft"),
        mean_e2e=seconds.get("mean_e2el"),
        median_e2e=seconds.get("median_e2el"),
        p99_e2e=seconds.get("p99_e2el"),
        max_concurrency=conc,
    )


def _read_one(path: Path | str, number: int | None, row: Any, flags: DeploymentFlags) -> BenchResult:
    where = f"{path}" if number is None else f"{path}: row {number}"
    if not isinstance(row, Mapping):
        raise UsageError(f"{where}: expected an object ({HINT})")
    numbers = _numbers(row, where)
    notes = _notes(row, numbers)
    recorded, decode_gpus = _recorded(row, where, flags)
    stats = _stats(numbers, client_cap(row["conc"], "conc", where))
    settled = settle_deployment(recorded, flags, path, model_id=str(row["model"]), engine=recorded["engine"])
    settled = attrs.evolve(settled, notes=(*settled.notes, *notes))
    # InferenceX divides output tokens/s by its TP size (single node) or its decode GPUs (multinode).
    divisor = decode_gpus if decode_gpus is not None else client_cap(row["tp"], "tp", where)
    assert divisor is not None
    return build_result(
        path,
        settled,
        stats,
        mean_isl=numbers.isl * MEAN_LENGTH_FRACTION,
        mean_osl=numbers.osl * MEAN_LENGTH_FRACTION,
        output_tok_s=numbers.per_gpu * divisor,
        date=str(row.get("date") or "n.d."),
    )


def _engine(framework: str, where: str) -> str:
    lowered = framework.lower()
    for needle, engine in _FRAMEWORKS:
        if needle in lowered:
            return engine
    raise UsageError(f"{where}: framework {framework!r} is not vllm, sglang or TensorRT-LLM; pass --engine")


def read_all(path: Path | str, data: Any, flags: DeploymentFlags) -> list[BenchResult]:
    if isinstance(data, list):
        if not data:
            raise UsageError(f"{path}: an empty list of results")
        return [_read_one(path, i, row, flags) for i, row in enumerate(data)]
    return [_read_one(path, None, data, flags)]


def read(path: Path | str, data: Mapping[str, Any], flags: DeploymentFlags) -> BenchResult:
    return _read_one(path, None, data, flags)
