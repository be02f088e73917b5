"""The checked scenario as value classes: the fleet in service, the candidates, the traffic, prices,
facility, constraints, migration costs and the rules' thresholds (:class:`Scenario` holds them all)."""

from __future__ import annotations

import datetime as dt
import enum
from pathlib import Path

import attrs


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
