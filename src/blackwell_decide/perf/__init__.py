"""Throughput against interactivity: a calibrated performance model of LLM serving.

Physics first (weights and KV traffic, FLOPs, prefill sharing the GPU, tensor-parallel
communication, KV capacity under the engine's memory settings), with a few efficiency and
overhead figures per serving engine and accelerator family fitted to measurements. A prediction
never beats the physical decode floor, and says which limit binds. The catalog (accelerators,
formats, models, profiles) is passed explicitly; the package root's wrappers pick the default.

    >>> from blackwell_decide.perf import Workload, predict          # doctest: +SKIP
    >>> predict(deployment, Workload(1024, 1024), engine="vllm", concurrency=4, catalog=catalog).tpot_s
"""

from blackwell_decide.perf._prediction import Prediction
from blackwell_decide.perf._profile_choice import choose_profile, registered_profiles
from blackwell_decide.perf.feasibility import RequestDoesNotFitError, check_servable
from blackwell_decide.perf.ingest import (
    Measurement,
    catalog_model_for,
    load_dataset,
    read_measurements,
    read_sweep_csv,
    read_vllm_bench_json,
)
from blackwell_decide.perf.model import at_interactivity, frontier, max_throughput, predict
from blackwell_decide.perf.physics import BINDINGS, DeploymentTerms, deployment_terms
from blackwell_decide.perf.profile import (
    CalibrationProfile,
    EngineSettings,
    ErrorRecord,
    FitRecord,
    borrowed_profile,
    check_engine,
    engine_settings_from_dict,
    profile_from_dict,
    profile_to_dict,
)
from blackwell_decide.perf.serving import ServingFeatures, SpeculativeDecoding
from blackwell_decide.perf.workload import Workload

__all__ = [
    "BINDINGS",
    "CalibrationProfile",
    "DeploymentTerms",
    "EngineSettings",
    "ErrorRecord",
    "FitRecord",
    "Measurement",
    "Prediction",
    "RequestDoesNotFitError",
    "ServingFeatures",
    "SpeculativeDecoding",
    "Workload",
    "at_interactivity",
    "borrowed_profile",
    "catalog_model_for",
    "check_engine",
    "check_servable",
    "choose_profile",
    "deployment_terms",
    "engine_settings_from_dict",
    "frontier",
    "load_dataset",
    "max_throughput",
    "predict",
    "profile_from_dict",
    "profile_to_dict",
    "read_measurements",
    "read_sweep_csv",
    "read_vllm_bench_json",
    "registered_profiles",
]
