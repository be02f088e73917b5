"""blackwell_decide: should this LLM inference workload move to the new GPU, when, and what does it
really get per token?

The package root re-exports the public API. The value classes and errors load eagerly; everything
else (bounds, performance model, economics, evidence, rules, memos) loads on first use, so
``import blackwell_decide`` stays light and never imports sympy, jinja2 or matplotlib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from blackwell_decide._version import __version__
from blackwell_decide.errors import (
    BlackwellDecideError,
    CatalogError,
    DoesNotFitError,
    PluginError,
    ScenarioError,
    UnknownKeyError,
    UsageError,
)
from blackwell_decide.model import (
    ARTICLE_SOURCE,
    PRICE_TIERS,
    Accelerator,
    Alternative,
    CapacityBasis,
    Conventions,
    Cooling,
    Deployment,
    Engine,
    EngineSettings,
    MLAConfig,
    ModelArch,
    MoEConfig,
    NumberFormat,
    ParamCounts,
    PriceQuote,
    PriceSnapshot,
    PriceTier,
    QuantScheme,
    Source,
    SourceKind,
)

if TYPE_CHECKING:
    import datetime as dt
    from pathlib import Path

    from blackwell_decide.bounds import (
        Bounds,
        Derived,
        Speedup,
        compute_bounds,
        speedup,
    )
    from blackwell_decide.catalog_files import (
        CatalogFileError,
        PriceFileError,
        load_accelerators,
        load_number_formats,
        load_price_file,
        load_price_snapshots,
    )
    from blackwell_decide.economics import (
        Throughput,
        TokenBasis,
        Traffic,
        break_even_price,
        cost_table,
        energy_share_of_tco,
        payback,
        ratio_matrix,
        size_fleet,
        tokens_per_provisioned_mw,
    )
    from blackwell_decide.economics.mix import MixClass, TrafficMix
    from blackwell_decide.economics.prices import PriceChoice, choose_prices
    from blackwell_decide.economics.rank import Ranking, rank_market
    from blackwell_decide.economics.skypilot_prices import SkyPilotPrices, load_skypilot_csv
    from blackwell_decide.evidence import (
        AuditReport,
        BenchAudit,
        EvidenceRecord,
        Triangulation,
        all_records,
        format_audit,
        get_record,
        triangulate,
    )
    from blackwell_decide.hookspecs import (
        hookimpl,
    )
    from blackwell_decide.model_files import (
        load_model_config,
        read_hf_config,
    )
    from blackwell_decide.perf import (
        CalibrationProfile,
        Measurement,
        Prediction,
        Workload,
        borrowed_profile,
        engine_settings_from_dict,
        load_dataset,
        profile_from_dict,
        read_sweep_csv,
    )
    from blackwell_decide.plugins import (
        Catalog,
        PluginWarning,
        build_catalog,
        get_catalog,
        reset_catalog,
    )
    from blackwell_decide.registry import (
        Registry,
    )
    from blackwell_decide.report import (
        MemoSection,
        render_memo,
        write_memo,
    )
    from blackwell_decide.report.market_section import market_context
    from blackwell_decide.resolve import (
        resolve_scheme,
    )
    from blackwell_decide.rules import (
        Decision,
        Finding,
        FlipPoint,
        Reason,
        Recommendation,
        Rule,
        Verdict,
    )
    from blackwell_decide.rules.market import ScenarioMarket, scenario_market
    from blackwell_decide.rules.situations import BUILTIN_RULES
    from blackwell_decide.scenario import Scenario

#: Where each lazily loaded name lives.
_LAZY: dict[str, str] = {
    "Catalog": "blackwell_decide.plugins",
    "PluginWarning": "blackwell_decide.plugins",
    "build_catalog": "blackwell_decide.plugins",
    "get_catalog": "blackwell_decide.plugins",
    "reset_catalog": "blackwell_decide.plugins",
    "hookimpl": "blackwell_decide.hookspecs",
    "Registry": "blackwell_decide.registry",
    "resolve_scheme": "blackwell_decide.resolve",
    "load_model_config": "blackwell_decide.model_files",
    "read_hf_config": "blackwell_decide.model_files",
    "CatalogFileError": "blackwell_decide.catalog_files",
    "PriceFileError": "blackwell_decide.catalog_files",
    "load_accelerators": "blackwell_decide.catalog_files",
    "load_number_formats": "blackwell_decide.catalog_files",
    "load_price_file": "blackwell_decide.catalog_files",
    "load_price_snapshots": "blackwell_decide.catalog_files",
    "Bounds": "blackwell_decide.bounds",
    "Derived": "blackwell_decide.bounds",
    "Speedup": "blackwell_decide.bounds",
    "compute_bounds": "blackwell_decide.bounds",
    "speedup": "blackwell_decide.bounds",
    "CalibrationProfile": "blackwell_decide.perf",
    "borrowed_profile": "blackwell_decide.perf",
    "engine_settings_from_dict": "blackwell_decide.perf",
    "profile_from_dict": "blackwell_decide.perf",
    "Measurement": "blackwell_decide.perf",
    "Prediction": "blackwell_decide.perf",
    "Workload": "blackwell_decide.perf",
    "load_dataset": "blackwell_decide.perf",
    "read_sweep_csv": "blackwell_decide.perf",
    "PriceChoice": "blackwell_decide.economics.prices",
    "Throughput": "blackwell_decide.economics",
    "TokenBasis": "blackwell_decide.economics",
    "Traffic": "blackwell_decide.economics",
    "break_even_price": "blackwell_decide.economics",
    "choose_prices": "blackwell_decide.economics.prices",
    "cost_table": "blackwell_decide.economics",
    "energy_share_of_tco": "blackwell_decide.economics",
    "payback": "blackwell_decide.economics",
    "ratio_matrix": "blackwell_decide.economics",
    "size_fleet": "blackwell_decide.economics",
    "tokens_per_provisioned_mw": "blackwell_decide.economics",
    "MixClass": "blackwell_decide.economics.mix",
    "TrafficMix": "blackwell_decide.economics.mix",
    "Ranking": "blackwell_decide.economics.rank",
    "rank_market": "blackwell_decide.economics.rank",
    "SkyPilotPrices": "blackwell_decide.economics.skypilot_prices",
    "load_skypilot_csv": "blackwell_decide.economics.skypilot_prices",
    "ScenarioMarket": "blackwell_decide.rules.market",
    "scenario_market": "blackwell_decide.rules.market",
    "EvidenceRecord": "blackwell_decide.evidence",
    "all_records": "blackwell_decide.evidence",
    "format_audit": "blackwell_decide.evidence",
    "get_record": "blackwell_decide.evidence",
    "triangulate": "blackwell_decide.evidence",
    "BUILTIN_RULES": "blackwell_decide.rules.situations",
    "Decision": "blackwell_decide.rules",
    "Finding": "blackwell_decide.rules",
    "FlipPoint": "blackwell_decide.rules",
    "Reason": "blackwell_decide.rules",
    "Recommendation": "blackwell_decide.rules",
    "Rule": "blackwell_decide.rules",
    "Verdict": "blackwell_decide.rules",
    "Scenario": "blackwell_decide.scenario",
    "MemoSection": "blackwell_decide.report",
    "market_context": "blackwell_decide.report.market_section",
    "render_memo": "blackwell_decide.report",
    "write_memo": "blackwell_decide.report",
}


# The evidence layer takes the catalog explicitly; the root API is where the default (the
# built-in catalog plus every installed plugin) is picked for a caller who passes none.
def audit_file(path: str | Path, catalog: Catalog | None = None) -> AuditReport:
    """Audit every claim in a claims file (TOML) against the library's own arithmetic."""
    from blackwell_decide import evidence, plugins

    return evidence.audit_file(path, catalog or plugins.get_catalog())


def audit_bench_result(path: str | Path, catalog: Catalog | None = None, **options: Any) -> BenchAudit:
    """Audit one benchmark result file against its deployment's floor and the calibrated expectation."""
    from blackwell_decide import evidence, plugins

    return evidence.audit_bench_result(path, catalog or plugins.get_catalog(), **options)


def article_triangulation(catalog: Catalog | None = None) -> Triangulation:
    """B200 NVFP4 over H100 FP8 (Llama 70B) from every path, on the H100 baseline."""
    from blackwell_decide import evidence, plugins

    return evidence.article_triangulation(catalog or plugins.get_catalog())


def load_scenario(path: str | Path, catalog: Catalog | None = None) -> Scenario:
    """Read and check a scenario file (TOML), naming GPUs, formats, models and prices from ``catalog``."""
    from blackwell_decide import plugins, scenario

    return scenario.load_scenario(path, catalog or plugins.get_catalog())


def read_vllm_bench_json(path: str | Path, catalog: Catalog | None = None, **deployment: Any) -> Measurement:
    """The measurement in a ``vllm bench serve`` result JSON; ``deployment`` (model, gpu, weights,
    kv, tp, engine) fills in what the file omits."""
    from blackwell_decide import perf, plugins

    return perf.read_vllm_bench_json(path, catalog=catalog or plugins.get_catalog(), **deployment)


def resolve_deployment(*, catalog: Catalog | None = None, **spec: Any) -> Deployment:
    """A deployment from catalog keys: ``model`` (or ``model_config``), ``gpu``, ``weights``, and
    optionally ``kv``, ``tp`` and the other formats of :func:`blackwell_decide.resolve.resolve_deployment`."""
    from blackwell_decide import plugins, resolve

    return resolve.resolve_deployment(catalog=catalog or plugins.get_catalog(), **spec)


def predict(
    deployment: Deployment, workload: Workload, *, catalog: Catalog | None = None, **options: Any
) -> Prediction:
    """TPOT, TTFT and throughput at ``concurrency`` (see :func:`blackwell_decide.perf.predict`)."""
    from blackwell_decide import perf, plugins

    return perf.predict(deployment, workload, catalog=catalog or plugins.get_catalog(), **options)


def at_interactivity(
    deployment: Deployment, workload: Workload, tok_s_per_user: float, *, catalog: Catalog | None = None, **options: Any
) -> Prediction:
    """The best throughput at ``tok_s_per_user`` or more (see :func:`blackwell_decide.perf.at_interactivity`)."""
    from blackwell_decide import perf, plugins

    return perf.at_interactivity(
        deployment, workload, tok_s_per_user, catalog=catalog or plugins.get_catalog(), **options
    )


def frontier(
    deployment: Deployment, workload: Workload, *, catalog: Catalog | None = None, **options: Any
) -> Prediction:
    """Throughput against interactivity, Pareto points (see :func:`blackwell_decide.perf.frontier`)."""
    from blackwell_decide import perf, plugins

    return perf.frontier(deployment, workload, catalog=catalog or plugins.get_catalog(), **options)


def max_throughput(
    deployment: Deployment, workload: Workload, *, catalog: Catalog | None = None, **options: Any
) -> Prediction:
    """The most output tokens/s per GPU (see :func:`blackwell_decide.perf.max_throughput`)."""
    from blackwell_decide import perf, plugins

    return perf.max_throughput(deployment, workload, catalog=catalog or plugins.get_catalog(), **options)


def check_engine(engine: str, catalog: Catalog | None = None) -> str:
    """The key of a registered serving engine (a key or an alias, any case); UsageError naming
    the nearest and the known engines otherwise."""
    from blackwell_decide import perf, plugins

    return perf.check_engine(engine, catalog or plugins.get_catalog())


def decide_scenario(path: str | Path, catalog: Catalog | None = None, as_of: dt.date | None = None) -> Decision:
    """Load the scenario at ``path``, compute its facts on ``as_of`` (default: the scenario's
    date, else today) and run the registered rules; the decision keeps the catalog, so
    :func:`write_memo` renders its sections and market from the same one."""
    from blackwell_decide import plugins, rules

    return rules.decide_scenario(path, catalog or plugins.get_catalog(), as_of=as_of)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    # The public names and the module's dunders only: helpers of this file (importlib, Any,
    # TYPE_CHECKING, annotations) are not API and must not show up in a new user's dir().
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})


__all__ = [
    "ARTICLE_SOURCE",
    "BUILTIN_RULES",
    "PRICE_TIERS",
    "Accelerator",
    "Alternative",
    "BlackwellDecideError",
    "Bounds",
    "CalibrationProfile",
    "CapacityBasis",
    "Catalog",
    "CatalogError",
    "CatalogFileError",
    "Conventions",
    "Cooling",
    "Decision",
    "Deployment",
    "Derived",
    "DoesNotFitError",
    "Engine",
    "EngineSettings",
    "EvidenceRecord",
    "Finding",
    "FlipPoint",
    "MLAConfig",
    "Measurement",
    "MemoSection",
    "MixClass",
    "MoEConfig",
    "ModelArch",
    "NumberFormat",
    "ParamCounts",
    "PluginError",
    "PluginWarning",
    "Prediction",
    "PriceChoice",
    "PriceFileError",
    "PriceQuote",
    "PriceSnapshot",
    "PriceTier",
    "QuantScheme",
    "Ranking",
    "Reason",
    "Recommendation",
    "Registry",
    "Rule",
    "Scenario",
    "ScenarioError",
    "ScenarioMarket",
    "SkyPilotPrices",
    "Source",
    "SourceKind",
    "Speedup",
    "Throughput",
    "TokenBasis",
    "Traffic",
    "TrafficMix",
    "UnknownKeyError",
    "UsageError",
    "Verdict",
    "Workload",
    "__version__",
    "all_records",
    "article_triangulation",
    "at_interactivity",
    "audit_bench_result",
    "audit_file",
    "borrowed_profile",
    "break_even_price",
    "build_catalog",
    "check_engine",
    "choose_prices",
    "compute_bounds",
    "cost_table",
    "decide_scenario",
    "energy_share_of_tco",
    "engine_settings_from_dict",
    "format_audit",
    "frontier",
    "get_catalog",
    "get_record",
    "hookimpl",
    "load_accelerators",
    "load_dataset",
    "load_model_config",
    "load_number_formats",
    "load_price_file",
    "load_price_snapshots",
    "load_scenario",
    "load_skypilot_csv",
    "market_context",
    "max_throughput",
    "payback",
    "predict",
    "profile_from_dict",
    "rank_market",
    "ratio_matrix",
    "read_hf_config",
    "read_sweep_csv",
    "read_vllm_bench_json",
    "render_memo",
    "reset_catalog",
    "resolve_deployment",
    "resolve_scheme",
    "scenario_market",
    "size_fleet",
    "speedup",
    "tokens_per_provisioned_mw",
    "triangulate",
    "write_memo",
]
