"""The section parsers: each reads one table of a scenario, checks what spans its keys and
returns its value class (or None, with the problems recorded on the reader)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from blackwell_decide.input_schema import TableReader, describe_value
from blackwell_decide.scenario._names import CatalogCheck
from blackwell_decide.scenario.schema import SCHEMA
from blackwell_decide.scenario.spec import (
    DEFAULT_OVERLAP_MONTHS,
    CandidateSpec,
    ConstraintSpec,
    FacilitySpec,
    FleetSpec,
    MigrationSpec,
    Ownership,
    SiteCooling,
    Thresholds,
    TrafficClass,
    WorkloadSpec,
)
from blackwell_decide.units import MS


def scenario_section(
    r: TableReader, cat: CatalogCheck, doc: Mapping[str, Any]
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
    r: TableReader, cat: CatalogCheck, table: Mapping[str, Any], section: str, where: str
) -> tuple[str | None, str | None, str | None]:
    gpu = cat.key("accelerators", f"{where}.gpu", r.get(table, section, "gpu", where), "catalog accelerators")
    weights = cat.key("formats", f"{where}.weights", r.get(table, section, "weights", where), "catalog formats")
    kv = cat.key("formats", f"{where}.kv", r.get(table, section, "kv", where), "catalog formats")
    return gpu, weights, kv


def current_section(r: TableReader, cat: CatalogCheck, doc: Mapping[str, Any]) -> FleetSpec | None:
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
    engine = cat.engine("current.engine", g("engine")) or ""
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


def _speculative_keys(r: TableReader, table: Mapping[str, Any], section: str, where: str) -> dict[str, Any]:
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


def _hit_rate(r: TableReader, value: Any) -> float:
    if value is None:
        return 0.0
    if not value < 1:
        r.problem("workload.prefix_cache_hit_rate", f"{value:g}: a hit rate is below 1 (a prompt is never all cached)")
        return 0.0
    return float(value)


def candidates_section(r: TableReader, cat: CatalogCheck, doc: Mapping[str, Any]) -> list[CandidateSpec]:
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
    names: set[str] = set()  # lower-cased, so two candidates cannot differ only in case
    for index, table in enumerate(raw):
        where = f"candidates[{index}]"
        if not isinstance(table, Mapping):
            r.problem(where, f"expected a table, got {describe_value(table)}")
            continue
        candidate = _candidate(r, cat, table, where, names)
        if candidate is not None:
            names.add(candidate.name.lower())
            out.append(candidate)
    return out


def _candidate(
    r: TableReader, cat: CatalogCheck, table: Mapping[str, Any], where: str, taken: set[str]
) -> CandidateSpec | None:
    """One ``[[candidates]]`` table, or None with its problems recorded; ``taken`` holds the
    earlier candidates' names."""
    r.unknown_keys(table, "candidates", where)
    gpu, weights, kv = _deployment_keys(r, cat, table, "candidates", where)

    def g(key: str) -> Any:
        return r.get(table, "candidates", key, where)

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
        return None
    name = g("name") or f"{gpu} {weights}"
    if name.lower() in taken:
        r.problem(f"{where}.name", f"{name!r} is used by an earlier candidate; give each a distinct name")
        return None
    return CandidateSpec(
        name=name,
        gpu=gpu,
        weights=weights,
        kv=kv,
        tp=g("tp"),
        engine=cat.engine(f"{where}.engine", g("engine")) or "",
        ownership=Ownership(ownership),
        price_tier=g("price_tier"),
        usd_per_gpu_hour=price,
        capex_usd_per_gpu=capex,
        depreciation_years=years,
        memory_fraction=g("memory_fraction"),
        **_speculative_keys(r, table, "candidates", where),
    )


def workload_section(r: TableReader, doc: Mapping[str, Any]) -> WorkloadSpec | None:
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


def _mix(r: TableReader, table: Mapping[str, Any]) -> tuple[TrafficClass, ...] | None:
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
            r.problem(where, f"expected a table, got {describe_value(entry)}")
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


def facility_section(r: TableReader, doc: Mapping[str, Any]) -> FacilitySpec | None:
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


def constraints_section(r: TableReader, cat: CatalogCheck, doc: Mapping[str, Any]) -> ConstraintSpec:
    table = r.table(doc, "constraints", required=False) or {}
    r.unknown_keys(table, "constraints", "constraints")

    def g(key: str) -> Any:
        return r.get(table, "constraints", key, "constraints")

    stack = cat.engine("constraints.serving_stack", g("serving_stack"))
    return ConstraintSpec(
        min_accuracy_recovery=g("min_accuracy_recovery"),
        serving_stack=stack,
        serving_stack_version=g("serving_stack_version"),
        nvfp4_supported=g("nvfp4_supported"),
    )


def migration_section(r: TableReader, doc: Mapping[str, Any]) -> MigrationSpec:
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


def thresholds_section(r: TableReader, doc: Mapping[str, Any]) -> Thresholds:
    table = r.table(doc, "thresholds", required=False) or {}
    r.unknown_keys(table, "thresholds", "thresholds")
    changes = {}
    for key in SCHEMA["thresholds"]:
        value = r.get(table, "thresholds", key, "thresholds")
        if value is not None:
            changes[key] = value
    return Thresholds(**changes)
