"""What every benchmark-result reader shares: reading the file, checking its fields (every
missing or bad field named at once), settling the deployment the file does not record, and the
concurrency that was really in flight (Little's law).

A reader turns one tool's layout into a :class:`BenchResult`: the :class:`Measurement` that
calibration uses and the :class:`RunStats` (percentiles, duration, traffic) the audit diagnoses.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.errors import UsageError
from blackwell_decide.input_schema import NumberRule, ValueProblem, checked_number, shown
from blackwell_decide.perf.measurement import Measurement
from blackwell_decide.perf.profile import check_engine
from blackwell_decide.perf.readers.model_ids import match_catalog_model, weights_in_name

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog

#: Little's law within this fraction of ``max_concurrency`` means the client cap was the
#: concurrency (the small gap is the ramp-up and drain at either end of the run).
CAP_AGREEMENT = 0.05
#: Engines whose KV-cache format "auto" is the model's own dtype (vLLM and SGLang
#: ``--kv-cache-dtype auto``); TensorRT-LLM takes it from the checkpoint's quantisation instead.
KV_AUTO_IS_MODEL_DTYPE = frozenset({"vllm", "sglang"})


@attrs.frozen
class RunStats:
    """Latency percentiles (seconds; None where the file has none) and the traffic of one run.

    ``request_rate`` is the arrival rate asked for (requests/s), None for "inf" (every prompt
    sent at once, or as fast as ``max_concurrency`` clients allow). ``littles_law`` is the mean
    number of requests in flight over the run: total time spent in the system by all requests ÷
    the run's duration (= completed ÷ duration × mean end-to-end latency)."""

    tool: str
    mean_tpot: float
    median_tpot: float | None = None
    p99_tpot: float | None = None
    mean_itl: float | None = None
    median_itl: float | None = None
    p99_itl: float | None = None
    mean_ttft: float | None = None
    median_ttft: float | None = None
    p99_ttft: float | None = None
    mean_e2e: float | None = None
    median_e2e: float | None = None
    p99_e2e: float | None = None
    duration_s: float | None = None
    completed: int = 0
    num_prompts: int | None = None
    request_rate: float | None = None
    max_concurrency: int | None = None
    littles_law: float | None = None
    littles_law_from: str = ""  # per-request arrays, mean end-to-end latency, or TTFT + TPOT x output
    failed: int = 0
    spec_acceptance_length: float | None = None  # tokens accepted per speculative step, where recorded

    @property
    def all_at_once(self) -> bool:
        """Every prompt was sent at the start: no rate and no client cap below the prompt count."""
        prompts = self.num_prompts or self.completed
        if not prompts:  # the file does not say how many prompts were sent
            return False
        return self.request_rate is None and (self.max_concurrency is None or prompts <= self.max_concurrency)


@attrs.frozen
class BenchResult:
    measurement: Measurement
    stats: RunStats
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """A short name for listing the runs of one file."""
        m = self.measurement
        conc = "offline" if m.concurrency is None else f"concurrency {m.concurrency:.3g}"
        return f"{m.model} on {m.gpu} TP{m.tp}, {m.mean_isl:.0f}/{m.mean_osl:.0f} tokens, {conc}"


@attrs.frozen
class DeploymentFlags:
    """What the person running the audit said about the deployment (None: not given)."""

    model: str | None = None
    gpu: str | None = None
    weights: str | None = None
    kv: str | None = None
    tp: int | None = None
    pp: int | None = None
    prefill_gpus: int | None = None
    engine: str | None = None
    #: The catalog the deployment's names resolve against, passed down from the caller.
    catalog: Catalog = attrs.field(kw_only=True)


# ---------------------------------------------------------------------------- the file
def load_json(path: Path | str, tool: str) -> Any:
    from blackwell_decide import input_files

    # Bounded like every input (regular files only, a size limit); SGLang writes a literal Infinity
    # request rate, so the JSON constants are read here and checked per field by the readers.
    text = input_files.read_text(path, limit=input_files.MEASUREMENT_LIMIT)
    try:
        return json.loads(text, parse_int=input_files.bounded_int)
    except input_files.InputFileError as exc:
        raise UsageError(f"{path}: {exc.problem}") from None
    except RecursionError:
        raise UsageError(f"{path}: nests objects or arrays too deeply to read") from None
    except json.JSONDecodeError as exc:
        first = exc
    except ValueError as exc:  # an integer past Python's 4,300-digit limit
        raise UsageError(f"{path}: holds a value that cannot be read ({exc})") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > 1:  # JSON Lines (SGLang appends one result per run): the last run
        try:
            return json.loads(lines[-1])
        except json.JSONDecodeError:
            pass
    raise UsageError(f"{path}: not a readable {tool} JSON file ({first})")


#: Past any benchmark's token count, milliseconds or tokens per second: keeps every ratio finite.
MAX_FIELD = 1e12
#: The smallest positive value a latency (ms), a rate or a count can take in a result file.
MIN_POSITIVE = 1e-6
#: A result file's number (a numeric string counts), by whether it must be positive.
FIELD_RULES = {
    False: NumberRule(minimum=0.0, maximum=MAX_FIELD, numeric_text=True),
    True: NumberRule(positive=True, maximum=MAX_FIELD, smallest=MIN_POSITIVE, numeric_text=True),
}


def _as_read(value: Any) -> str:
    """The value as the reader saw it: a numeric string as its number ("nan" as nan)."""
    return shown(float(value) if isinstance(value, str) else value)


class Fields:
    """Reads numbers out of one record, collecting every missing or bad field so that one error
    names them all."""

    def __init__(self, data: Mapping[str, Any], path: Path | str, tool: str) -> None:
        self.data, self.path, self.tool = data, path, tool
        self.missing: list[str] = []
        self.bad: list[str] = []
        self._bad_keys: set[str] = set()

    def _reject(self, key: str, problem: str) -> None:
        # One problem per field: the same key read twice (once as a metric, once by the latency
        # sweep) must not be reported twice.
        if key not in self._bad_keys:
            self._bad_keys.add(key)
            self.bad.append(problem)

    def number(self, key: str, *, required: bool = False, positive: bool = False, scale: float = 1.0) -> float | None:
        """``data[key] × scale``; a missing optional field is None; present values must be finite
        and not negative (positive where ``positive``)."""
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                self.missing.append(key)
            return None
        number = checked_number(value, FIELD_RULES[positive])
        if not isinstance(number, ValueProblem):
            return number * scale
        if number.kind == "type":
            self._reject(key, f"{key!r} is {value!r}, not a number")
        elif number.kind == "smallest":
            # 5e-324 ms is positive but no physical latency or rate: it would divide as zero
            self._reject(key, f"{key!r} is {_as_read(value)}; it must be at least {MIN_POSITIVE:g}")
        else:
            need = "positive" if positive else "finite and not negative"
            self._reject(key, f"{key!r} is {_as_read(value)}; it must be {need} and at most {MAX_FIELD:g}")
        return None

    def check(self, hint: str) -> None:
        """Raise one UsageError naming every missing and bad field (with ``hint`` on the layout
        when fields are missing)."""
        problems = []
        if self.missing:
            problems.append(f"missing field(s) {', '.join(self.missing)}")
        problems.extend(self.bad)
        if problems:
            tail = f" ({hint})" if self.missing else ""
            raise UsageError(f"{self.path}: {'; '.join(problems)}{tail}")


# ---------------------------------------------------------------------------- concurrency
def littles_law(
    completed: float,
    duration_s: float | None,
    *,
    mean_e2e_s: float | None = None,
    per_request_e2e_s: Sequence[float] | None = None,
    mean_ttft_s: float | None = None,
    mean_tpot_s: float | None = None,
    mean_osl: float | None = None,
) -> tuple[float | None, str]:
    """Mean requests in flight = time all requests spent in the system ÷ the run's duration, from
    per-request latencies where saved, else completed × mean end-to-end latency, else the end-to-end
    latency rebuilt as TTFT + (output − 1) × TPOT. (None, "") without a duration."""
    if not duration_s:
        return None, ""
    if per_request_e2e_s:
        return math.fsum(per_request_e2e_s) / duration_s, "per-request latencies"
    if mean_e2e_s:
        return completed * mean_e2e_s / duration_s, "completed ÷ duration × mean end-to-end latency"
    if mean_ttft_s is not None and mean_tpot_s and mean_osl:
        e2e = mean_ttft_s + max(mean_osl - 1.0, 0.0) * mean_tpot_s
        return completed * e2e / duration_s, "completed ÷ duration × (mean TTFT + (output − 1) × mean TPOT)"
    return None, ""


def settle_concurrency(stats: RunStats) -> tuple[float | None, str]:
    """The concurrency to judge the run at and a sentence saying where it came from."""
    cap, rate, law = stats.max_concurrency, stats.request_rate, stats.littles_law
    prompts = stats.num_prompts or stats.completed
    traffic = (
        f"{rate:g} request{'' if rate == 1 else 's'}/s"
        if rate is not None
        else ("all prompts at once" if cap is None else "as fast as allowed")
    )
    cap_text = f", max_concurrency {cap}" if cap is not None else ""
    if law is None:
        if cap is not None and rate is None:
            return float(
                cap
            ), f"max_concurrency {cap} (the file has no duration or latencies to check it by Little's law)"
        if rate is None:
            return None, "all prompts at once and no latencies to apply Little's law: judged as an offline maximum"
        raise UsageError(
            f"the run sent {rate:g} requests/s but records neither its duration nor its end-to-end latency, so the "
            "concurrency it ran at cannot be known; pass a file with 'duration' and latencies"
        )
    where = (
        f"Little's law ({stats.littles_law_from}): {law:.2f} in flight on average "
        f"({traffic}{cap_text}, {prompts} prompts)"
    )
    if cap is not None and rate is None and prompts > cap and abs(law - cap) <= CAP_AGREEMENT * cap:
        return float(cap), f"max_concurrency {cap}, confirmed by {where}"
    if law < 1.0:
        return 1.0, f"{where}; below one request, judged at concurrency 1"
    if cap is not None:
        law = min(law, float(cap))
    return law, where


# ---------------------------------------------------------------------------- deployment
@attrs.frozen
class Settled:
    model: str
    gpu: str
    weights: str
    kv: str
    tp: int
    pp: int
    prefill_gpus: int
    engine: str
    notes: tuple[str, ...]


def _whole(value: Any, name: str, path: Path | str, *, minimum: int) -> int:
    number = checked_number(str(value).strip(), NumberRule(minimum=minimum, whole=True, numeric_text=True))
    if isinstance(number, ValueProblem):
        bound = "" if number.kind == "type" else f" ≥ {minimum}"
        raise UsageError(f"{path}: {name} must be a whole number{bound}, got {value!r}")
    return int(number)


def _recorded(data: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = data.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _model_and_gpu(
    data: Mapping[str, Any], flags: DeploymentFlags, path: Path | str, model_id: str | None, notes: list[str]
) -> tuple[str, str]:
    """The catalog model (the flag, the file's record, else matched from the checkpoint id) and the
    GPU (the flag or the file's record: it has no default)."""
    model = flags.model or _recorded(data, "model")
    gpu = flags.gpu or _recorded(data, "gpu")
    absent = [name for name, value in (("model", model or model_id), ("gpu", gpu)) if not value]
    if absent:
        flag_text = " ".join(f"--{name} …" for name in absent)
        raise UsageError(
            f"{path}: the result does not record {' or '.join(absent)}; pass {flag_text} "
            f"(or record it when benchmarking: --metadata {' '.join(f'{n}=…' for n in absent)})"
        )
    if not model:
        assert model_id is not None
        match = match_catalog_model(model_id, flags.catalog, where=f"{path}: model_id")
        model = match.key
        if match.note:
            notes.append(match.note)
    assert gpu is not None
    return model, gpu


def _weights(
    data: Mapping[str, Any], flags: DeploymentFlags, checkpoint: str | None, native: str, notes: list[str]
) -> str:
    weights = flags.weights or _recorded(data, "weights")
    if weights:
        return weights
    named = weights_in_name(checkpoint or "")
    if named:
        notes.append(f"weights {named}: read from the checkpoint name {checkpoint!r} (pass --weights to override)")
        return named
    notes.append(
        f"weights {native}: the result and the checkpoint name say no quantisation, so the model's own dtype "
        "is assumed (pass --weights FORMAT if it was quantised when served)"
    )
    return native


def _kv(
    data: Mapping[str, Any], flags: DeploymentFlags, engine: str, weights: str, native: str, notes: list[str]
) -> str:
    kv_text = flags.kv or _recorded(data, "kv", "kv_cache_dtype")
    if kv_text and kv_text.lower() != "auto":
        return kv_text
    if engine in KV_AUTO_IS_MODEL_DTYPE:
        said = "records kv-cache dtype 'auto'" if kv_text else "does not record the KV-cache format"
        notes.append(f"kv {native}: the result {said}; {engine}'s 'auto' stores the cache in the model's dtype")
        return native
    notes.append(f"kv: not recorded; {engine}'s default for {weights} weights is used (pass --kv to override)")
    return ""


def _parallelism(
    data: Mapping[str, Any], flags: DeploymentFlags, path: Path | str, notes: list[str]
) -> tuple[int, int, int]:
    """TP (1 when not recorded, noted), pipeline stages (1) and separate prefill GPUs (0)."""
    tp_text = flags.tp if flags.tp is not None else _recorded(data, "tp", "tensor_parallel_size")
    if tp_text is None:
        tp = 1
        notes.append("tp 1: the result does not record tensor parallelism (pass --tp N if it ran on more GPUs)")
    else:
        tp = _whole(tp_text, "tp", path, minimum=1)
    pp_text = flags.pp if flags.pp is not None else _recorded(data, "pp", "pipeline_parallel_size")
    pp = 1 if pp_text is None else _whole(pp_text, "pp", path, minimum=1)
    prefill_text = flags.prefill_gpus if flags.prefill_gpus is not None else _recorded(data, "prefill_gpus")
    prefill = 0 if prefill_text is None else _whole(prefill_text, "prefill_gpus", path, minimum=0)
    return tp, pp, prefill


def settle_deployment(
    data: Mapping[str, Any], flags: DeploymentFlags, path: Path | str, *, model_id: str | None, engine: str
) -> Settled:
    """The deployment: each flag given wins, then what the file records (``--metadata`` keys
    gpu, weights, kv, tp, pp, prefill_gpus; tensor_parallel_size; kv_cache_dtype), then a stated
    default: the model from the checkpoint id, the weights its name says (else the model's own
    dtype), the engine's default KV format, TP 1, no pipeline stages, no separate prefill GPUs.
    The GPU has no default: the file never says which GPU served it."""
    notes: list[str] = []
    engine = check_engine(flags.engine or _recorded(data, "engine") or engine, flags.catalog)
    model, gpu = _model_and_gpu(data, flags, path, model_id, notes)
    native = flags.catalog.models.get(model).native_weight_format or "bf16"
    weights = _weights(data, flags, model_id, native, notes)
    kv = _kv(data, flags, engine, weights, native, notes)
    tp, pp, prefill = _parallelism(data, flags, path, notes)
    return Settled(model, gpu, weights, kv, tp, pp, prefill, engine, tuple(notes))


def per_request_e2e(data: Mapping[str, Any], completed: int) -> list[float] | None:
    """End-to-end seconds per successful request from saved ``ttfts`` and ``itls`` arrays (vLLM
    and SGLang ``--save-detailed``/``--output-details``), or None when they are absent or do
    not line up."""
    ttfts, itls = data.get("ttfts"), data.get("itls")
    if not isinstance(ttfts, list) or not isinstance(itls, list) or len(ttfts) != len(itls) or not ttfts:
        return None
    errors = data.get("errors")
    out: list[float] = []
    for i, (ttft, gaps) in enumerate(zip(ttfts, itls, strict=True)):
        if isinstance(errors, list) and i < len(errors) and errors[i]:
            continue
        if not isinstance(ttft, int | float) or not isinstance(gaps, list):
            return None
        if not all(isinstance(g, int | float) and math.isfinite(g) and g >= 0 for g in gaps):
            return None
        if not (math.isfinite(ttft) and ttft > 0):
            continue
        out.append(float(ttft) + math.fsum(gaps))
    return out if len(out) == completed else None


# ---------------------------------------------------------------------------- assembling
#: Latency statistics as the tools name them: mean_/median_/std_/pNN_ + metric + _ms.
LATENCY_KEY = re.compile(r"^(?:mean|median|std|p\d+(?:\.\d+)?)_[a-z0-9_]+_ms$")


def latency_percentiles(ms: Callable[[str], float | None], e2e: str) -> dict[str, float | None]:
    """The mean, median and p99 TPOT, ITL, TTFT and end-to-end latency (seconds) of a result that
    names them ``{mean,median,p99}_{tpot,itl,ttft}_ms`` and ``{mean,median,p99}_{e2e}_ms`` (vLLM and
    SGLang both do; vLLM calls end-to-end ``e2el``, SGLang ``e2e_latency``). ``ms`` reads one field."""
    out: dict[str, float | None] = {}
    for metric, key in (("tpot", "tpot"), ("itl", "itl"), ("ttft", "ttft"), ("e2e", e2e)):
        for stat in ("median", "p99") if metric == "tpot" else ("mean", "median", "p99"):
            out[f"{stat}_{metric}"] = ms(f"{stat}_{key}_ms")
    return out


def check_latency_fields(fields: Fields) -> None:
    """Every latency statistic the file has must be finite and positive (a negative or zero
    percentile is a corrupt or hand-edited file, never a figure to quote: a zero mean TTFT made
    `calibrate` fit NaN); only a spread (``std_``) may be zero."""
    for key in fields.data:
        if isinstance(key, str) and LATENCY_KEY.match(key):
            fields.number(key, positive=not key.startswith("std_"))


def request_rate(value: Any, path: Path | str) -> float | None:
    """The arrival rate asked for: None for "inf" (or absent), else positive requests/s."""
    if value is None or (
        isinstance(value, str) and value.strip().lower() in ("inf", "+inf", "infinity", "+infinity", "")
    ):
        return None
    if isinstance(value, float) and value == math.inf:  # SGLang writes a literal Infinity
        return None
    rate = checked_number(value, NumberRule(positive=True, numeric_text=True))
    if not isinstance(rate, ValueProblem):
        return rate
    if rate.kind == "type":
        raise UsageError(f"{path}: 'request_rate' must be a number of requests/s or \"inf\", got {value!r}")
    raise UsageError(f"{path}: 'request_rate' must be positive or \"inf\", got {value!r}")


def client_cap(value: Any, key: str, path: Path | str) -> int | None:
    if value is None:
        return None
    number = checked_number(value, NumberRule(minimum=1, whole=True))
    if isinstance(number, ValueProblem):
        raise UsageError(f"{path}: {key!r} must be a positive whole number or null, got {value!r}")
    return int(number)


def build_result(
    path: Path | str,
    settled: Settled,
    stats: RunStats,
    *,
    mean_isl: float,
    mean_osl: float,
    output_tok_s: float | None,
    date: str,
) -> BenchResult:
    """The measurement and stats of one run, judged at the concurrency that was in flight."""
    from blackwell_decide.model import Source

    if mean_isl < 1 or mean_osl < 1:
        raise UsageError(f"{path}: fewer than one input or output token per request")
    # Every reader's time per output token, in seconds: positive values that underflow (5e-324 ms)
    # are no latency a GPU can reach; refused here once for all formats.
    if not stats.mean_tpot >= MIN_POSITIVE * 1e-3:
        raise UsageError(f"{path}: a mean time per output token of {stats.mean_tpot!r} s is not a measured latency")
    if output_tok_s is not None and not output_tok_s >= MIN_POSITIVE:
        raise UsageError(f"{path}: an output throughput of {output_tok_s!r} tok/s is not a measured rate")
    try:
        concurrency, basis = settle_concurrency(stats)
    except UsageError as exc:
        raise UsageError(f"{path}: {exc}") from None
    measurement = Measurement(
        dataset=Path(path).name,
        row=1,
        model=settled.model,
        gpu=settled.gpu,
        engine=settled.engine,
        weights=settled.weights,
        kv=settled.kv,
        tp=settled.tp,
        isl=round(mean_isl),
        osl=round(mean_osl),
        mean_isl=mean_isl,
        mean_osl=mean_osl,
        concurrency=concurrency,
        tpot_s=stats.mean_tpot,
        ttft_s=stats.mean_ttft,
        output_tok_s=output_tok_s,
        num_gpus=settled.tp * settled.pp + settled.prefill_gpus,
        source=Source(url=str(path), date=date or "n.d.", kind="user", title=stats.tool),
        pp=settled.pp,
        prefill_gpus=settled.prefill_gpus,
        concurrency_basis=basis,
    )
    return BenchResult(measurement, stats, settled.notes)
