"""Scenario files: the question a person asks, as TOML.

A scenario describes the fleet in service, the deployments it could move to, the traffic and
its service level, where prices come from, the facility, the constraints and the one-time cost of
moving. :func:`load_scenario` reads and checks one; every problem it finds is reported at once,
each naming the key path and how to fix it (:class:`~blackwell_decide.errors.ScenarioError`).

Units are in the key names (``_per_s``, ``_ms``, ``_kw``, ``_usd``), so every value is a plain
number; ``docs/scenario-schema.md`` documents each key. :data:`STARTER` is the commented file
that ``blackwell-decide init`` writes.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide import input_files
from blackwell_decide.dates import as_date
from blackwell_decide.errors import ScenarioError, UsageError, nearest_match
from blackwell_decide.units import MS

if TYPE_CHECKING:
    from blackwell_decide.model import PriceSnapshot
    from blackwell_decide.plugins import Catalog


class Ownership(enum.Enum):
    RENTED = "rented"  # cloud GPU-hours; infrastructure is in the hourly price
    OWNED = "owned"  # on the premises described by [facility]


class SiteCooling(enum.Enum):
    AIR = "air"
    LIQUID = "liquid"


# --------------------------------------------------------------------------- value classes


@attrs.frozen
class FleetSpec:
    """The fleet in service today."""

    gpu: str
    count: int
    weights: str
    kv: str | None
    tp: int
    engine: str
    engine_version: str
    ownership: Ownership
    contract_end: dt.date | None
    price_tier: str | None
    usd_per_gpu_hour: float | None
    marginal_usd_per_gpu_hour: float | None
    memory_fraction: float | None = None  # the engine's KV memory fraction; None: its shipped default
    speculative: str | None = None  # drafter kind (perf.serving.DRAFT_KINDS); None: off
    acceptance_length: float | None = None
    draft_tokens: int | None = None
    draft_cost: float | None = None


@attrs.frozen
class CandidateSpec:
    """A deployment the fleet could move to. ``tp`` None means the smallest that fits and meets
    the service level."""

    name: str
    gpu: str
    weights: str
    kv: str | None
    tp: int | None
    engine: str
    ownership: Ownership
    price_tier: str | None
    usd_per_gpu_hour: float | None
    capex_usd_per_gpu: float | None
    depreciation_years: float | None
    memory_fraction: float | None = None  # the engine's KV memory fraction; None: its shipped default
    speculative: str | None = None  # drafter kind (perf.serving.DRAFT_KINDS); None: off
    acceptance_length: float | None = None
    draft_tokens: int | None = None
    draft_cost: float | None = None


@attrs.frozen
class TrafficClass:
    share: float
    input_tokens: float
    output_tokens: float


@attrs.frozen
class WorkloadSpec:
    peak_requests_per_s: float
    average_requests_per_s: float
    mix: tuple[TrafficClass, ...]
    min_tokens_per_s_per_user: float | None
    max_tpot_s: float | None
    max_ttft_s: float | None
    max_context_tokens: float | None
    autoscale: bool = False
    min_replicas: int = 1
    prefix_cache_hit_rate: float = 0.0

    @property
    def input_tokens(self) -> float:
        """Mean input tokens per request over the mix."""
        return sum(c.share * c.input_tokens for c in self.mix)

    @property
    def output_tokens(self) -> float:
        return sum(c.share * c.output_tokens for c in self.mix)

    @property
    def peak_to_average(self) -> float:
        return self.peak_requests_per_s / self.average_requests_per_s

    @property
    def tokens_per_s_per_user(self) -> float:
        """The service level as tokens/s per user: the stricter of the two ways to state it."""
        targets = [self.min_tokens_per_s_per_user or 0.0]
        if self.max_tpot_s:
            targets.append(1.0 / self.max_tpot_s)
        return max(targets)


@attrs.frozen
class PriceSpec:
    """Where prices come from: a file, a pinned snapshot (``provider@date``), or a provider whose
    newest snapshot on or before the decision date is used (``provider``)."""

    snapshot: str | None
    tier: str
    file: Path | None
    provider: str | None = None


@attrs.frozen
class FacilitySpec:
    cooling: SiteCooling
    rack_power_kw: float
    gpus_per_server: int
    server_overhead: float | None  # None: the GPU's reference-system overhead
    usd_per_kwh: float
    pue: float | None  # None: the shipped survey average
    hosting_usd_per_gpu_month: float


@attrs.frozen
class ConstraintSpec:
    min_accuracy_recovery: float | None
    serving_stack: str | None
    serving_stack_version: str | None
    nvfp4_supported: bool | None


#: Months both fleets are paid for while traffic moves over, when a scenario does not say: one
#: monthly billing cycle of a rental (a stated assumption, not a measurement; set
#: migration.overlap_months to your plan).
DEFAULT_OVERLAP_MONTHS = 1.0


@attrs.frozen
class MigrationSpec:
    engineering_usd: float
    requalification_usd: float
    infrastructure_usd: float
    overlap_months: float = 0.0

    @property
    def total_usd(self) -> float:
        return self.engineering_usd + self.requalification_usd + self.infrastructure_usd


@attrs.frozen
class Thresholds:
    """The numbers the rules compare facts against. Parameters, not conclusions: a scenario's
    ``[thresholds]`` table overrides any of them.

    - ``min_savings_fraction``: the monthly saving, as a share of today's cost, below which a
      migration is not worth its risk (a hold).
    - ``max_payback_months``: one-time costs must be repaid by the savings within this long for
      an unconditional "migrate".
    - ``prefill_share``: share of the current fleet's GPU time that prefill takes (a lower bound
      from the prefill ceiling) from which traffic counts as prefill-heavy (situation 3).
    - ``newer_fleet_kv_share``: the current GPU already has at least this share of the
      candidate's KV room per GPU (an H200 has about half a B200's).
    - ``fleet_mismatch_fraction``: how far the declared ``count`` may differ from the fleet the
      model sizes for the peak, as a share of the modelled fleet, before the memo says so and
      the right-sized fleet becomes a no-purchase option.
    """

    min_savings_fraction: float = 0.15
    max_payback_months: float = 12.0
    prefill_share: float = 0.2
    newer_fleet_kv_share: float = 0.3
    fleet_mismatch_fraction: float = 0.25


@attrs.frozen
class Scenario:
    """One checked scenario file. ``sha256`` is of the file's bytes (for the memo's
    reproducibility block); ``base_dir`` resolves relative paths inside it."""

    path: Path
    sha256: str
    name: str
    description: str
    model: str | None
    model_config: Path | None
    as_of: dt.date | None
    current: FleetSpec
    candidates: tuple[CandidateSpec, ...]
    workload: WorkloadSpec
    prices: PriceSpec
    facility: FacilitySpec | None
    constraints: ConstraintSpec
    migration: MigrationSpec
    thresholds: Thresholds

    @property
    def base_dir(self) -> Path:
        return self.path.parent


# --------------------------------------------------------------------------- schema


@attrs.frozen
class Key:
    """One key of the schema: its kind, unit (for messages), whether it is required and an
    example value for the fix."""

    kind: str  # str, int, number, date, bool, choice, path, fraction
    help: str
    example: str
    unit: str = ""
    required: bool = False
    minimum: float | None = None  # inclusive
    positive: bool = False  # strictly above zero
    choices: tuple[str, ...] = ()


#: The engine-memory and serving-feature keys a fleet and a candidate share (bounds.kv_room, perf.serving).
_SERVING_KEYS: Mapping[str, Key] = {
    "memory_fraction": Key(
        "fraction",
        "the engine's memory fraction that sizes the KV room (vLLM gpu_memory_utilization, TensorRT-LLM "
        "kv_cache_free_gpu_mem_fraction, SGLang mem_fraction_static; default: the engine's shipped default)",
        "0.9",
        unit="fraction",
    ),
    "speculative": Key(
        "choice",
        "speculative decoding's drafter (default: none): eagle, mtp, draft-model or ngram",
        '"eagle"',
        choices=("eagle", "mtp", "draft-model", "ngram"),
    ),
    "acceptance_length": Key(
        "number",
        "with speculative: mean tokens emitted per verified step, the bonus token included (measured on your "
        "traffic; 1 to draft_tokens + 1)",
        "2.5",
        unit="tokens per step",
        positive=True,
    ),
    "draft_tokens": Key("int", "with speculative: tokens drafted per step (default 3)", "3", positive=True),
    "draft_cost": Key(
        "number",
        "with speculative: time to draft one token as a fraction of a decode step (default: from the "
        "architecture; required for draft-model)",
        "0.015",
        unit="fraction of a step",
        minimum=0,
    ),
}

SCHEMA: Mapping[str, Mapping[str, Key]] = {
    "scenario": {
        "name": Key("str", "title of the memo", '"Chat fleet, H100 to B200"', required=True),
        "description": Key("str", "a sentence or two on the fleet and the question", '"..."'),
        "model": Key("str", "model key from `blackwell-decide catalog models`", '"llama-3.3-70b"'),
        "model_config": Key(
            "path", "a Hugging Face config.json (relative to this file) instead of model", '"config.json"'
        ),
        "as_of": Key("date", "the date the decision is made on (default: today, or decide/memo --as-of)", "2026-05-22"),
    },
    "current": {
        "gpu": Key("str", "accelerator key from `blackwell-decide catalog accelerators`", '"h100-sxm"', required=True),
        "count": Key("int", "GPUs in service", "16", unit="GPUs", required=True, positive=True),
        "weights": Key("str", "weight number format", '"fp8"', required=True),
        "kv": Key("str", "KV-cache number format (default: fp8 for 4-bit weights, else the weights')", '"fp8"'),
        "tp": Key("int", "tensor-parallel size of one replica", "1", unit="GPUs", positive=True),
        "engine": Key("str", "serving engine", '"vllm"'),
        "engine_version": Key("str", "serving engine release", '"0.12.0"'),
        **_SERVING_KEYS,
        "ownership": Key(
            "choice",
            "rented (cloud) or owned (on the premises in [facility])",
            '"rented"',
            required=True,
            choices=("rented", "owned"),
        ),
        "contract_end": Key("date", "end of the rental commitment, or of depreciation when owned", "2026-09-30"),
        "price_tier": Key("str", "price tier paid for this fleet (default: prices.tier)", '"reserved-1y"'),
        "usd_per_gpu_hour": Key(
            "number", "the price actually paid, overriding the snapshot", "2.64", unit="USD per GPU-hour", minimum=0
        ),
        "marginal_usd_per_gpu_hour": Key(
            "number",
            "owned fleets: what keeping one GPU running costs (default: power and hosting from [facility])",
            "0.35",
            unit="USD per GPU-hour",
            minimum=0,
        ),
    },
    "candidates": {
        "name": Key("str", "label in the memo (default: gpu and weights)", '"B200 NVFP4"'),
        "gpu": Key("str", "accelerator key", '"b200"', required=True),
        "weights": Key("str", "weight number format", '"nvfp4"', required=True),
        "kv": Key("str", "KV-cache number format", '"fp8"'),
        "tp": Key(
            "int",
            "tensor-parallel size (default: the smallest that fits and meets the service level)",
            "1",
            unit="GPUs",
            positive=True,
        ),
        "engine": Key("str", "serving engine", '"vllm"'),
        **_SERVING_KEYS,
        "ownership": Key("choice", "rented (default) or owned", '"rented"', choices=("rented", "owned")),
        "price_tier": Key("str", "price tier for this candidate (default: prices.tier)", '"spot"'),
        "usd_per_gpu_hour": Key(
            "number", "an explicit price instead of the snapshot's", "6.03", unit="USD per GPU-hour", minimum=0
        ),
        "capex_usd_per_gpu": Key(
            "number", "owned: purchase price per GPU, with its share of the server", "45000", unit="USD", minimum=0
        ),
        "depreciation_years": Key(
            "number", "owned: years the purchase is written off over", "4", unit="years", positive=True
        ),
    },
    "workload": {
        "peak_requests_per_s": Key(
            "number",
            "requests per second at the daily peak",
            "50",
            unit="requests per second",
            required=True,
            positive=True,
        ),
        "average_requests_per_s": Key(
            "number", "average requests per second (default: the peak)", "25", unit="requests per second", positive=True
        ),
        "input_tokens": Key(
            "number", "mean prompt tokens per request (or give [[workload.mix]])", "800", unit="tokens", minimum=1
        ),
        "output_tokens": Key("number", "mean generated tokens per request", "400", unit="tokens", minimum=1),
        "mix": Key("list", "traffic classes: [[workload.mix]] share, input_tokens, output_tokens", "(table)"),
        "min_tokens_per_s_per_user": Key(
            "number",
            "interactivity target: tokens per second each user sees",
            "50",
            unit="tokens per second per user",
            positive=True,
        ),
        "max_tpot_ms": Key(
            "number", "or: the longest acceptable time per output token", "20", unit="milliseconds", positive=True
        ),
        "max_ttft_ms": Key(
            "number", "the longest acceptable time to first token", "2000", unit="milliseconds", positive=True
        ),
        "prefix_cache_hit_rate": Key(
            "fraction",
            "share of each prompt's tokens found in the engine's prefix cache (default 0): only the rest is prefilled",
            "0.5",
            unit="fraction of prompt tokens",
        ),
        "autoscale": Key(
            "bool",
            "rented fleets scale with the traffic: billed for the replicas the average needs, not the peak "
            "(default false: always on, sized for the peak)",
            "true",
        ),
        "min_replicas": Key(
            "int",
            "autoscaled fleets never scale below this many replicas (default 1)",
            "2",
            unit="replicas",
            positive=True,
        ),
        "max_context_tokens": Key(
            "number",
            "the longest context one request must be able to hold (the service's "
            "context window); a replica whose KV room is smaller is not an option",
            "131072",
            unit="tokens",
            positive=True,
        ),
    },
    "workload.mix": {
        "share": Key(
            "number",
            "fraction of requests in this class (shares add up to 1)",
            "0.7",
            unit="fraction",
            required=True,
            positive=True,
        ),
        "input_tokens": Key("number", "prompt tokens", "800", unit="tokens", required=True, minimum=1),
        "output_tokens": Key("number", "generated tokens", "400", unit="tokens", required=True, minimum=1),
    },
    "prices": {
        "snapshot": Key(
            "str",
            "price snapshot from `blackwell-decide catalog prices`: provider@date, or a provider alone for its newest "
            "snapshot on or before the decision date",
            '"spheron@2026-05-22"',
        ),
        "tier": Key("str", "tier compared on both sides (on-demand, spot, reserved-1y, ...)", '"on-demand"'),
        "file": Key(
            "path",
            "a private price file (relative to this file), used instead of or beside the snapshot",
            '"rates.toml"',
        ),
    },
    "facility": {
        "cooling": Key("choice", "how the racks are cooled", '"air"', required=True, choices=("air", "liquid")),
        "rack_power_kw": Key("number", "power available per rack", "40", unit="kW", required=True, positive=True),
        "gpus_per_server": Key("int", "GPUs per server (an HGX board holds 8)", "8", unit="GPUs", positive=True),
        "server_overhead": Key(
            "number",
            "server power beyond the GPUs (CPUs, NICs, fans) as a fraction of GPU power (default: the GPU's "
            "reference system, e.g. DGX H100 0.82)",
            "0.5",
            unit="fraction of GPU power",
            minimum=0,
        ),
        "usd_per_kwh": Key("number", "electricity price", "0.12", unit="USD per kWh", minimum=0),
        "pue": Key(
            "number",
            "power usage effectiveness (facility power / IT power; default 1.56, the Uptime Institute 2024 "
            "survey average)",
            "1.3",
            unit="ratio",
            minimum=1,
        ),
        "hosting_usd_per_gpu_month": Key(
            "number", "space, cooling plant and operations per GPU", "150", unit="USD per GPU-month", minimum=0
        ),
    },
    "constraints": {
        "min_accuracy_recovery": Key(
            "fraction",
            "accuracy the quantised model must keep, as a fraction of BF16",
            "0.99",
            unit="fraction (0.99 = 99 %)",
        ),
        "serving_stack": Key("str", "engine the candidate must run on (vllm, trtllm, sglang)", '"vllm"'),
        "serving_stack_version": Key("str", "the engine release you can deploy", '"0.12.0"'),
        "nvfp4_supported": Key("bool", "override: does your stack serve NVFP4 on the candidate?", "false"),
    },
    "migration": {
        "engineering_usd": Key("number", "engineering time to port and tune", "40000", unit="USD", minimum=0),
        "overlap_months": Key(
            "number",
            "months both fleets run (and are paid for) while traffic moves over; counted in the payback "
            f"(default {DEFAULT_OVERLAP_MONTHS:g})",
            "1",
            unit="months",
            minimum=0,
        ),
        "requalification_usd": Key(
            "number", "evaluation and re-qualification of the quantised model", "15000", unit="USD", minimum=0
        ),
        "infrastructure_usd": Key(
            "number", "facility work (power, cooling) and other one-time spend", "0", unit="USD", minimum=0
        ),
    },
    "thresholds": {
        "min_savings_fraction": Key(
            "fraction", "saving below which a migration is a hold", "0.15", unit="fraction of today's monthly cost"
        ),
        "max_payback_months": Key(
            "number", "longest acceptable payback of the one-time costs", "12", unit="months", positive=True
        ),
        "prefill_share": Key(
            "fraction",
            "share of the current fleet's GPU time prefill takes from which traffic is prefill-heavy (default 0.2)",
            "0.2",
            unit="fraction of GPU time",
        ),
        "newer_fleet_kv_share": Key(
            "fraction", "share of the candidate's KV room the current GPU already has", "0.3", unit="fraction"
        ),
        "fleet_mismatch_fraction": Key(
            "fraction",
            "difference between the declared count and the modelled fleet beyond which the memo flags it",
            "0.25",
            unit="fraction of the modelled fleet",
        ),
    },
}

REQUIRED_SECTIONS = ("scenario", "current", "candidates", "workload")


# --------------------------------------------------------------------------- reading


class _Reader:
    """Reads values out of the parsed TOML, recording one problem per bad key."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def table(self, doc: Mapping[str, Any], name: str, *, required: bool) -> Mapping[str, Any] | None:
        value = doc.get(name)
        if value is None:
            if required:
                self.problem(f"[{name}]", f"missing section; add a [{name}] table (see `blackwell-decide init`)")
            return None
        if not isinstance(value, Mapping):
            self.problem(name, f"must be a table ([{name}]), got {_describe(value)}")
            return None
        return value

    def unknown_keys(self, table: Mapping[str, Any], section: str, where: str) -> None:
        known = SCHEMA[section]
        for key in table:
            if key in known:
                continue
            near = nearest_match(key, known)
            hint = f"did you mean {near!r}?" if near else f"known keys: {', '.join(known)}"
            self.problem(f"{where}.{key}", f"unknown key; {hint}")

    def get(self, table: Mapping[str, Any], section: str, key: str, where: str) -> Any:
        """The checked value of ``key`` (None when absent and optional, or invalid)."""
        spec = SCHEMA[section][key]
        path = f"{where}.{key}"
        if key not in table:
            if spec.required:
                self.problem(path, f"missing; {spec.help}, for example {key} = {spec.example}")
            return None
        value = table[key]
        check = _CHECKS[spec.kind]
        return check(self, path, key, spec, value)


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _fix(key: str, spec: Key) -> str:
    return f"write {key} = {spec.example}"


def _check_str(r: _Reader, path: str, key: str, spec: Key, value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        r.problem(path, f"expected text, got {_describe(value)}; {_fix(key, spec)}")
        return None
    return value.strip()


def _check_number(r: _Reader, path: str, key: str, spec: Key, value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        unit = f" ({spec.unit}; the unit is in the key's name)" if spec.unit else ""
        r.problem(path, f"expected a number{unit}, got {_describe(value)}; {_fix(key, spec)}")
        return None
    number = float(value) if not isinstance(value, int) or abs(value) < 10**300 else math.inf
    if not math.isfinite(number):
        r.problem(path, f"must be a finite number, got {value!r}; {_fix(key, spec)}")
        return None
    if spec.positive and number <= 0:
        r.problem(path, f"must be greater than zero, got {value!r}; {_fix(key, spec)}")
        return None
    if spec.minimum is not None and number < spec.minimum:
        r.problem(path, f"must be at least {spec.minimum:g}, got {value!r}; {_fix(key, spec)}")
        return None
    return number


def _check_int(r: _Reader, path: str, key: str, spec: Key, value: Any) -> int | None:
    number = _check_number(r, path, key, spec, value)
    if number is None:
        return None
    if number != int(number):
        r.problem(path, f"must be a whole number, got {value!r}; {_fix(key, spec)}")
        return None
    return int(number)


def _check_fraction(r: _Reader, path: str, key: str, spec: Key, value: Any) -> float | None:
    number = _check_number(r, path, key, spec, value)
    if number is None:
        return None
    if not 0 < number <= 1:
        hint = f"; write {number / 100:g} for {number:g} %" if 1 < number <= 100 else ""
        r.problem(path, f"must be a fraction between 0 and 1, got {value!r}{hint}")
        return None
    return number


def _check_date(r: _Reader, path: str, key: str, spec: Key, value: Any) -> dt.date | None:
    day = as_date(value)
    if day is not None:
        return day
    r.problem(path, f"expected a date (YYYY-MM-DD), got {_describe(value)}; {_fix(key, spec)}")
    return None


def _check_bool(r: _Reader, path: str, key: str, spec: Key, value: Any) -> bool | None:
    if not isinstance(value, bool):
        r.problem(path, f"expected true or false, got {_describe(value)}; {_fix(key, spec)}")
        return None
    return value


def _check_choice(r: _Reader, path: str, key: str, spec: Key, value: Any) -> str | None:
    text = _check_str(r, path, key, spec, value)
    if text is None:
        return None
    lowered = text.lower().replace("_", "-").replace(" ", "-")
    aliases = {"on-premises": "owned", "on-prem": "owned", "cloud": "rented", "rent": "rented", "own": "owned"}
    lowered = aliases.get(lowered, lowered) if "owned" in spec.choices else lowered
    if lowered not in spec.choices:
        r.problem(path, f"must be one of {', '.join(spec.choices)}, got {value!r}")
        return None
    return lowered


def _check_path(r: _Reader, path: str, key: str, spec: Key, value: Any) -> str | None:
    return _check_str(r, path, key, spec, value)


def _check_list(r: _Reader, path: str, key: str, spec: Key, value: Any) -> Any:
    if not isinstance(value, list):
        r.problem(path, f"expected a list of tables ([[{path}]]), got {_describe(value)}")
        return None
    return value


_CHECKS: Mapping[str, Callable[[_Reader, str, str, Key, Any], Any]] = {
    "str": _check_str,
    "int": _check_int,
    "number": _check_number,
    "fraction": _check_fraction,
    "date": _check_date,
    "bool": _check_bool,
    "choice": _check_choice,
    "path": _check_path,
    "list": _check_list,
}


# --------------------------------------------------------------------------- catalog checks


class _CatalogCheck:
    """Checks names against the catalog, naming the nearest known key."""

    def __init__(self, reader: _Reader, catalog: Catalog) -> None:
        self.r = reader
        self.catalog = catalog

    def key(self, registry_name: str, path: str, name: str | None, listing: str) -> str | None:
        if name is None:
            return None
        registry = self.catalog.registries()[registry_name]
        if name in registry:
            return registry.resolve(name)
        near = nearest_match(name, registry.keys())
        hint = f"did you mean {near!r}? " if near else ""
        self.r.problem(path, f"unknown {registry.kind} {name!r}; {hint}see `blackwell-decide {listing}`")
        return None


def _engine(r: _Reader, path: str, name: str | None) -> str | None:
    """An engine name the performance model knows (lower-cased), or None with a problem."""
    if name is None:
        return None
    from blackwell_decide.perf.profile import ENGINES

    lowered = name.lower().replace("tensorrt-llm", "trtllm").replace("tensorrt_llm", "trtllm")
    if lowered in ENGINES:
        return lowered
    near = nearest_match(lowered, ENGINES)
    hint = f"did you mean {near!r}? " if near else ""
    r.problem(path, f"unknown serving engine {name!r}; {hint}known engines: {', '.join(ENGINES)}")
    return None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_scenario(path: str | Path, catalog: Catalog | None = None) -> Scenario:
    """Read and check the scenario at ``path``.

    Raises :class:`~blackwell_decide.errors.ScenarioError` listing every problem (key path, what
    is wrong, how to fix it), or :class:`~blackwell_decide.errors.UsageError` when the file
    cannot be read at all.
    """
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path}: no such scenario file; `blackwell-decide init {path}` writes a starter")
    data = input_files.read_bytes(path)
    try:
        doc = input_files.parse_toml(str(path), input_files.decode(str(path), data))
    except input_files.InputFileError as exc:
        raise ScenarioError(str(path), [f"the file {exc.problem}"]) from None
    if catalog is None:
        from blackwell_decide.plugins import get_catalog

        catalog = get_catalog()
    return parse_scenario(doc, path=path, sha256=_sha256(data), catalog=catalog)


def parse_scenario(doc: Mapping[str, Any], *, path: Path, sha256: str, catalog: Catalog) -> Scenario:
    """Check a parsed scenario document; see :func:`load_scenario`."""
    r = _Reader()
    cat = _CatalogCheck(r, catalog)
    for name in doc:
        if name not in SCHEMA or name == "workload.mix":
            sections = [s for s in SCHEMA if "." not in s]
            near = nearest_match(name, sections)
            hint = f"did you mean [{near}]?" if near else f"known sections: {', '.join(sections)}"
            r.problem(f"[{name}]", f"unknown section; {hint}")

    meta = _scenario_section(r, cat, doc)
    prices = _prices_section(r, cat, doc, path.parent)
    current = _current_section(r, cat, doc)
    candidates = _candidates_section(r, cat, doc)
    workload = _workload_section(r, doc)
    facility = _facility_section(r, doc)
    constraints = _constraints_section(r, doc)
    migration = _migration_section(r, doc)
    thresholds = _thresholds_section(r, doc)

    owned = (current is not None and current.ownership is Ownership.OWNED) or any(
        c.ownership is Ownership.OWNED for c in candidates
    )
    if owned and facility is None and "facility" not in doc:
        r.problem(
            "[facility]",
            "missing; an owned fleet or candidate needs the site's cooling and rack power "
            "(add [facility] with cooling and rack_power_kw)",
        )
    if current is not None and prices is not None:
        _check_prices(r, catalog, prices, current, candidates, path.parent, meta[4] if meta is not None else None)

    if r.problems:
        raise ScenarioError(str(path), r.problems)
    assert meta is not None and current is not None and workload is not None and prices is not None
    name, description, model, model_config, as_of = meta
    return Scenario(
        path=path,
        sha256=sha256,
        name=name,
        description=description,
        model=model,
        model_config=(path.parent / model_config) if model_config else None,
        as_of=as_of,
        current=current,
        candidates=tuple(candidates),
        workload=workload,
        prices=prices,
        facility=facility,
        constraints=constraints,
        migration=migration,
        thresholds=thresholds,
    )


def _scenario_section(
    r: _Reader, cat: _CatalogCheck, doc: Mapping[str, Any]
) -> tuple[str, str, str | None, str | None, dt.date | None] | None:
    table = r.table(doc, "scenario", required=True)
    if table is None:
        return None
    r.unknown_keys(table, "scenario", "scenario")
    name = r.get(table, "scenario", "name", "scenario")
    description = r.get(table, "scenario", "description", "scenario") or ""
    model = r.get(table, "scenario", "model", "scenario")
    model_config = r.get(table, "scenario", "model_config", "scenario")
    as_of = r.get(table, "scenario", "as_of", "scenario")
    if model is None and model_config is None and "model" not in table and "model_config" not in table:
        r.problem(
            "scenario.model",
            'missing; name the model, for example model = "llama-3.3-70b" (or model_config = "config.json")',
        )
    elif model is not None and model_config is not None:
        r.problem("scenario.model_config", "give model or model_config, not both")
    model = cat.key("models", "scenario.model", model, "catalog models")
    if name is None:
        return None
    return name, description, model, model_config, as_of


def _deployment_keys(
    r: _Reader, cat: _CatalogCheck, table: Mapping[str, Any], section: str, where: str
) -> tuple[str | None, str | None, str | None]:
    gpu = cat.key("accelerators", f"{where}.gpu", r.get(table, section, "gpu", where), "catalog accelerators")
    weights = cat.key("formats", f"{where}.weights", r.get(table, section, "weights", where), "catalog formats")
    kv = cat.key("formats", f"{where}.kv", r.get(table, section, "kv", where), "catalog formats")
    return gpu, weights, kv


def _current_section(r: _Reader, cat: _CatalogCheck, doc: Mapping[str, Any]) -> FleetSpec | None:
    table = r.table(doc, "current", required=True)
    if table is None:
        return None
    r.unknown_keys(table, "current", "current")
    gpu, weights, kv = _deployment_keys(r, cat, table, "current", "current")

    def g(key: str) -> Any:
        return r.get(table, "current", key, "current")

    count, tp, ownership = g("count"), g("tp") or 1, g("ownership")
    contract_end, tier, price, marginal = (
        g("contract_end"),
        g("price_tier"),
        g("usd_per_gpu_hour"),
        g("marginal_usd_per_gpu_hour"),
    )
    engine = _engine(r, "current.engine", g("engine")) or ""
    engine_version = g("engine_version") or ""
    if count is not None and tp and count % tp:
        r.problem("current.count", f"{count} GPUs is not a whole number of TP={tp} replicas; use a multiple of {tp}")
        count = None
    if ownership == "rented" and marginal is not None:
        r.problem(
            "current.marginal_usd_per_gpu_hour",
            "only for owned fleets; a rented fleet pays usd_per_gpu_hour (or the snapshot's price)",
        )
    if None in (gpu, weights, count, ownership) or (kv is None and "kv" in table):
        return None
    assert gpu is not None and weights is not None and count is not None and ownership is not None
    return FleetSpec(
        gpu=gpu,
        count=count,
        weights=weights,
        kv=kv,
        tp=tp,
        engine=engine,
        engine_version=engine_version,
        ownership=Ownership(ownership),
        contract_end=contract_end,
        price_tier=tier,
        usd_per_gpu_hour=price,
        marginal_usd_per_gpu_hour=marginal,
        memory_fraction=g("memory_fraction"),
        **_speculative_keys(r, table, "current", "current"),
    )


def _speculative_keys(r: _Reader, table: Mapping[str, Any], section: str, where: str) -> dict[str, Any]:
    """The speculative-decoding keys of a fleet or candidate, checked together."""
    kind = r.get(table, section, "speculative", where)
    out = {
        "speculative": kind,
        "acceptance_length": r.get(table, section, "acceptance_length", where),
        "draft_tokens": r.get(table, section, "draft_tokens", where),
        "draft_cost": r.get(table, section, "draft_cost", where),
    }
    given = [k for k in ("acceptance_length", "draft_tokens", "draft_cost") if out[k] is not None]
    if kind is None and given:
        r.problem(f"{where}.{given[0]}", 'only with speculative decoding: add speculative = "eagle" (or mtp, ngram)')
    if kind is not None and out["acceptance_length"] is None:
        r.problem(
            f"{where}.acceptance_length",
            "missing; speculative decoding needs the mean tokens per verified step measured on your traffic, "
            "for example acceptance_length = 2.5",
        )
    return out


def _hit_rate(r: _Reader, value: Any) -> float:
    if value is None:
        return 0.0
    if not value < 1:
        r.problem("workload.prefix_cache_hit_rate", f"{value:g}: a hit rate is below 1 (a prompt is never all cached)")
        return 0.0
    return float(value)


def _candidates_section(r: _Reader, cat: _CatalogCheck, doc: Mapping[str, Any]) -> list[CandidateSpec]:
    raw = doc.get("candidates")
    if raw is None:
        r.problem(
            "[[candidates]]",
            "missing; add at least one [[candidates]] table with gpu and weights, "
            'for example gpu = "b200" and weights = "nvfp4"',
        )
        return []
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        r.problem("candidates", "expected one or more [[candidates]] tables")
        return []
    out: list[CandidateSpec] = []
    names: set[str] = set()
    for index, table in enumerate(raw):
        where = f"candidates[{index}]"
        if not isinstance(table, Mapping):
            r.problem(where, f"expected a table, got {_describe(table)}")
            continue
        r.unknown_keys(table, "candidates", where)
        gpu, weights, kv = _deployment_keys(r, cat, table, "candidates", where)

        def g(key: str, t: Mapping[str, Any] = table, w: str = where) -> Any:
            return r.get(t, "candidates", key, w)

        ownership = g("ownership") or "rented"
        capex, years = g("capex_usd_per_gpu"), g("depreciation_years")
        price = g("usd_per_gpu_hour")
        if ownership == "owned" and price is None and (capex is None or years is None):
            r.problem(
                where,
                "an owned candidate needs usd_per_gpu_hour, or capex_usd_per_gpu with depreciation_years, to price it",
            )
        if ownership == "rented" and capex is not None:
            r.problem(f"{where}.capex_usd_per_gpu", 'only for owned candidates; set ownership = "owned"')
        if gpu is None or weights is None or (kv is None and "kv" in table):
            continue
        name = g("name") or f"{gpu} {weights}"
        if name.lower() in names:
            r.problem(f"{where}.name", f"{name!r} is used by an earlier candidate; give each a distinct name")
            continue
        names.add(name.lower())
        out.append(
            CandidateSpec(
                name=name,
                gpu=gpu,
                weights=weights,
                kv=kv,
                tp=g("tp"),
                engine=_engine(r, f"{where}.engine", g("engine")) or "",
                ownership=Ownership(ownership),
                price_tier=g("price_tier"),
                usd_per_gpu_hour=price,
                capex_usd_per_gpu=capex,
                depreciation_years=years,
                memory_fraction=g("memory_fraction"),
                **_speculative_keys(r, table, "candidates", where),
            )
        )
    return out


def _workload_section(r: _Reader, doc: Mapping[str, Any]) -> WorkloadSpec | None:
    table = r.table(doc, "workload", required=True)
    if table is None:
        return None
    r.unknown_keys(table, "workload", "workload")

    def g(key: str) -> Any:
        return r.get(table, "workload", key, "workload")

    peak, average = g("peak_requests_per_s"), g("average_requests_per_s")
    tok_s_user, tpot_ms, ttft_ms, context = (
        g("min_tokens_per_s_per_user"),
        g("max_tpot_ms"),
        g("max_ttft_ms"),
        g("max_context_tokens"),
    )
    ok = True
    if peak is not None and average is not None and average > peak:
        r.problem(
            "workload.average_requests_per_s",
            f"{average:g} is above the peak ({peak:g}); the average cannot exceed the peak",
        )
        ok = False
    if tok_s_user is None and tpot_ms is None and not {"min_tokens_per_s_per_user", "max_tpot_ms"} & set(table):
        r.problem(
            "workload.min_tokens_per_s_per_user",
            "missing; the service level decides throughput per GPU: "
            "write min_tokens_per_s_per_user = 50 (the article's production interactivity) or max_tpot_ms = 20",
        )
        ok = False
    mix = _mix(r, table)
    if peak is None or mix is None or not ok:
        return None
    return WorkloadSpec(
        peak_requests_per_s=peak,
        average_requests_per_s=average if average is not None else peak,
        mix=mix,
        min_tokens_per_s_per_user=tok_s_user,
        max_tpot_s=tpot_ms * MS if tpot_ms is not None else None,
        max_ttft_s=ttft_ms * MS if ttft_ms is not None else None,
        max_context_tokens=context,
        autoscale=bool(g("autoscale")),
        prefix_cache_hit_rate=_hit_rate(r, g("prefix_cache_hit_rate")),
        min_replicas=g("min_replicas") or 1,
    )


def _mix(r: _Reader, table: Mapping[str, Any]) -> tuple[TrafficClass, ...] | None:
    raw_mix = r.get(table, "workload", "mix", "workload")
    has_lengths = "input_tokens" in table or "output_tokens" in table
    if raw_mix is not None and has_lengths:
        r.problem("workload.mix", "give input_tokens and output_tokens, or [[workload.mix]], not both")
        return None
    if raw_mix is None:
        if "mix" in table:
            return None
        isl = r.get(table, "workload", "input_tokens", "workload")
        osl = r.get(table, "workload", "output_tokens", "workload")
        for key in ("input_tokens", "output_tokens"):
            if key not in table:
                r.problem(
                    f"workload.{key}",
                    f"missing; write {key} = {SCHEMA['workload'][key].example} "
                    "(or describe a mix with [[workload.mix]])",
                )
        if isl is None or osl is None:
            return None
        return (TrafficClass(1.0, isl, osl),)
    classes: list[TrafficClass] = []
    valid = True
    for index, entry in enumerate(raw_mix):
        where = f"workload.mix[{index}]"
        if not isinstance(entry, Mapping):
            r.problem(where, f"expected a table, got {_describe(entry)}")
            valid = False
            continue
        r.unknown_keys(entry, "workload.mix", where)
        values = [r.get(entry, "workload.mix", k, where) for k in ("share", "input_tokens", "output_tokens")]
        if None in values:
            valid = False
            continue
        classes.append(TrafficClass(*values))
    if not classes:
        if valid:
            r.problem("workload.mix", "is empty; add [[workload.mix]] tables")
        return None
    total = sum(c.share for c in classes)
    if valid and abs(total - 1.0) > 1e-6:
        r.problem("workload.mix", f"shares add up to {total:g}, not 1; scale them so they sum to 1")
        return None
    return tuple(classes) if valid else None


def _prices_section(r: _Reader, cat: _CatalogCheck, doc: Mapping[str, Any], base: Path) -> PriceSpec | None:
    table = r.table(doc, "prices", required=False) or {}
    r.unknown_keys(table, "prices", "prices")
    snapshot = r.get(table, "prices", "snapshot", "prices")
    tier = r.get(table, "prices", "tier", "prices") or "on-demand"
    file = r.get(table, "prices", "file", "prices")
    provider = None
    if isinstance(snapshot, str) and "@" not in snapshot:
        # A provider alone: its newest snapshot on or before the decision date (price_sources).
        providers = {snap.provider.lower() for snap in cat.catalog.prices.values()}
        if snapshot.strip().lower() in providers:
            provider, snapshot = snapshot.strip().lower(), None
    if snapshot is not None:
        snapshot = cat.key("prices", "prices.snapshot", snapshot, "catalog prices")
        if snapshot is None:
            return None
    file_path = base / file if file else None
    if file_path is not None and not file_path.is_file():
        r.problem("prices.file", f"{file_path} does not exist; give a path relative to the scenario file")
        return None
    return PriceSpec(snapshot=snapshot, tier=tier, file=file_path, provider=provider)


def _check_prices(
    r: _Reader,
    catalog: Catalog,
    prices: PriceSpec,
    current: FleetSpec,
    candidates: list[CandidateSpec],
    base: Path,
    as_of: dt.date | None = None,
) -> None:
    """Every rented deployment needs a price: explicit, or in the snapshot (or file) at its tier."""
    try:
        snapshots = price_sources(catalog, prices, as_of)
    except UsageError as exc:
        r.problem("prices.file" if prices.file is not None else "prices.snapshot", str(exc))
        return
    sides: list[tuple[str, str, str | None, float | None, Ownership]] = [
        ("current", current.gpu, current.price_tier, current.usd_per_gpu_hour, current.ownership)
    ]
    sides += [
        (f"candidates[{i}]", c.gpu, c.price_tier, c.usd_per_gpu_hour, c.ownership) for i, c in enumerate(candidates)
    ]
    for where, gpu, own_tier, explicit, ownership in sides:
        if explicit is not None or ownership is Ownership.OWNED:
            continue
        tier = own_tier or prices.tier
        if any(s.price(gpu, tier) for s in snapshots):
            continue
        if not snapshots:
            r.problem(
                "prices.snapshot",
                f"no prices given; {where} ({gpu}) is rented: set prices.snapshot "
                f"(see `blackwell-decide catalog prices`) or {where}.usd_per_gpu_hour",
            )
            return
        tiers = sorted({q.tier for s in snapshots for q in s.quotes_for(gpu)})
        have = f"tiers quoted for {gpu}: {', '.join(tiers)}" if tiers else f"no tier is quoted for {gpu}"
        r.problem(
            f"{where}.price_tier" if tier != prices.tier else "prices.tier",
            f"no {tier!r} price for {gpu} in {', '.join(s.key for s in snapshots)} ({have}); "
            f"choose a quoted tier or set {where}.usd_per_gpu_hour",
        )


def price_sources(catalog: Catalog, prices: PriceSpec, as_of: dt.date | None = None) -> list[PriceSnapshot]:
    """The price snapshots a scenario reads: its private file first (it wins), then the catalog
    snapshot: the pinned one, or the provider's newest on or before ``as_of`` (default: today).
    A bad price file raises :class:`~blackwell_decide.errors.UsageError` naming it."""
    out: list[PriceSnapshot] = []
    if prices.file is not None:
        from blackwell_decide.catalog_files import load_price_file

        out.append(load_price_file(prices.file, accelerators=catalog.accelerators))
    if prices.snapshot is not None:
        out.append(catalog.prices.get(prices.snapshot))
    if prices.provider is not None:
        day = as_of or dt.date.today()
        mine = [s for s in catalog.prices.values() if s.provider.lower() == prices.provider]
        usable = [s for s in mine if s.as_of <= day]
        if not usable:
            dates = ", ".join(sorted(s.as_of.isoformat() for s in mine))
            raise UsageError(
                f"prices.snapshot: {prices.provider} has no snapshot on or before {day.isoformat()} (dates: {dates}); "
                "set scenario.as_of to a later date or pin one as provider@date"
            )
        out.append(max(usable, key=lambda s: (s.as_of, not s.unconfirmed)))
    return out


def _facility_section(r: _Reader, doc: Mapping[str, Any]) -> FacilitySpec | None:
    table = r.table(doc, "facility", required=False)
    if table is None:
        return None
    r.unknown_keys(table, "facility", "facility")

    def g(key: str) -> Any:
        return r.get(table, "facility", key, "facility")

    cooling, rack = g("cooling"), g("rack_power_kw")
    per_server = g("gpus_per_server") or 8
    overhead = g("server_overhead")  # None: the GPU's reference system (economics.provisioning)
    kwh = g("usd_per_kwh") or 0.0
    pue = g("pue")  # None: the survey average (economics.provisioning)
    hosting = g("hosting_usd_per_gpu_month") or 0.0
    if cooling is None or rack is None:
        return None
    return FacilitySpec(
        cooling=SiteCooling(cooling),
        rack_power_kw=rack,
        gpus_per_server=per_server,
        server_overhead=overhead,
        usd_per_kwh=kwh,
        pue=pue,
        hosting_usd_per_gpu_month=hosting,
    )


def _constraints_section(r: _Reader, doc: Mapping[str, Any]) -> ConstraintSpec:
    table = r.table(doc, "constraints", required=False) or {}
    r.unknown_keys(table, "constraints", "constraints")

    def g(key: str) -> Any:
        return r.get(table, "constraints", key, "constraints")

    stack = _engine(r, "constraints.serving_stack", g("serving_stack"))
    return ConstraintSpec(
        min_accuracy_recovery=g("min_accuracy_recovery"),
        serving_stack=stack,
        serving_stack_version=g("serving_stack_version"),
        nvfp4_supported=g("nvfp4_supported"),
    )


def _migration_section(r: _Reader, doc: Mapping[str, Any]) -> MigrationSpec:
    table = r.table(doc, "migration", required=False) or {}
    r.unknown_keys(table, "migration", "migration")

    def g(key: str) -> Any:
        return r.get(table, "migration", key, "migration") or 0.0

    return MigrationSpec(
        engineering_usd=g("engineering_usd"),
        requalification_usd=g("requalification_usd"),
        infrastructure_usd=g("infrastructure_usd"),
        overlap_months=(
            DEFAULT_OVERLAP_MONTHS
            if (overlap := r.get(table, "migration", "overlap_months", "migration")) is None
            else overlap
        ),
    )


def _thresholds_section(r: _Reader, doc: Mapping[str, Any]) -> Thresholds:
    table = r.table(doc, "thresholds", required=False) or {}
    r.unknown_keys(table, "thresholds", "thresholds")
    changes = {}
    for key in SCHEMA["thresholds"]:
        value = r.get(table, "thresholds", key, "thresholds")
        if value is not None:
            changes[key] = value
    return Thresholds(**changes)


# --------------------------------------------------------------------------- starter file

STARTER = """\
# A blackwell-decide scenario: should this fleet move to a new GPU, and when?
# Check it with `blackwell-decide decide THIS_FILE`; write a memo with
# `blackwell-decide memo THIS_FILE -o memo.html`. Units are in the key names; every key is
# described in docs/scenario-schema.md. Lines starting with # are optional keys, shown with
# an example value.

[scenario]
name = "Chat fleet: H100 FP8 to B200 NVFP4"
description = "A rented H100 chat fleet (the article's worked example, Part 3.3)."
model = "llama-3.3-70b"            # `blackwell-decide catalog models`
# as_of = 2026-05-22               # decision date (default: today)

[current]                          # the fleet in service today
gpu = "h100-sxm"                   # `blackwell-decide catalog accelerators`
count = 16                         # GPUs in service
weights = "fp8"
kv = "fp8"
tp = 2                             # GPUs per replica
engine = "vllm"
ownership = "rented"               # rented (cloud) or owned (on the premises in [facility])
# contract_end = 2026-09-30        # end of the rental commitment (or of depreciation when owned)
# usd_per_gpu_hour = 2.64          # the price you actually pay, overriding the snapshot

[[candidates]]                     # one table per deployment to compare
name = "B200 NVFP4"
gpu = "b200"
weights = "nvfp4"
kv = "fp8"
# tp = 1                           # default: the smallest that fits and meets the service level
ownership = "rented"

[workload]
peak_requests_per_s = 50
average_requests_per_s = 25
input_tokens = 800                 # or several [[workload.mix]] tables (share, input_tokens, output_tokens)
output_tokens = 400
min_tokens_per_s_per_user = 50     # interactivity target; or max_tpot_ms = 20
# max_ttft_ms = 2000
# max_context_tokens = 131072     # the longest context one request must be able to hold

[prices]
snapshot = "spheron"               # newest before as_of; or pin one: "spheron@2026-06-03"
tier = "on-demand"                 # compared on both sides; the memo shows every tier
# file = "rates.toml"              # your negotiated rates (same format as the catalog's price files)

# [facility]                       # needed when a fleet or candidate is owned
# cooling = "air"                  # air or liquid
# rack_power_kw = 40
# gpus_per_server = 8
# server_overhead = 0.5            # CPUs, NICs and fans, as a fraction of GPU power
# usd_per_kwh = 0.12
# pue = 1.3
# hosting_usd_per_gpu_month = 150

[constraints]
# min_accuracy_recovery = 0.99     # fraction of BF16 accuracy the quantised model must keep
serving_stack = "vllm"
serving_stack_version = "0.12.0"
# nvfp4_supported = false          # override what the tool knows about your stack

[migration]                        # one-time costs of moving
engineering_usd = 40000
requalification_usd = 15000
infrastructure_usd = 0

# [thresholds]                     # what the rules compare facts against (defaults shown)
# min_savings_fraction = 0.15
# max_payback_months = 12
# prefill_share = 0.2
# newer_fleet_kv_share = 0.3
# fleet_mismatch_fraction = 0.25
"""


def write_starter(path: str | Path) -> Path:
    """Write :data:`STARTER` to ``path``; never overwrites an existing file."""
    path = Path(path)
    if path.is_dir():
        path = path / "scenario.toml"
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(STARTER)
    except FileExistsError:
        raise UsageError(f"{path} already exists; `init` never overwrites a file: choose another name") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the starter scenario ({exc.strerror})") from None
    return path
