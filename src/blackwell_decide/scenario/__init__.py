"""Scenario files: the question a person asks, as TOML.

A scenario describes the fleet in service, the deployments it could move to, the traffic and
its service level, where prices come from, the facility, the constraints and the one-time cost of
moving. :func:`load_scenario` reads and checks one; every problem it finds is reported at once,
each naming the key path and how to fix it (:class:`~blackwell_decide.errors.ScenarioError`).

Units are in the key names (``_per_s``, ``_ms``, ``_kw``, ``_usd``), so every value is a plain
number; ``docs/scenario-schema.md`` documents each key (:data:`SCHEMA`). :data:`STARTER` is the
commented file that ``blackwell-decide init`` writes.

Modules: :mod:`.spec` the value classes, :mod:`.schema` the key table, :mod:`.load` reading and
checking, :mod:`.starter` the starter file; ``_sections``, ``_prices`` and ``_names`` are internal.
Import every name from this package.
"""

from __future__ import annotations

from blackwell_decide.scenario._prices import price_sources
from blackwell_decide.scenario.load import load_scenario, parse_scenario
from blackwell_decide.scenario.schema import REQUIRED_SECTIONS, SCHEMA
from blackwell_decide.scenario.spec import (
    DEFAULT_OVERLAP_MONTHS,
    CandidateSpec,
    ConstraintSpec,
    FacilitySpec,
    FleetSpec,
    MigrationSpec,
    Ownership,
    PriceSpec,
    Scenario,
    SiteCooling,
    Thresholds,
    TrafficClass,
    WorkloadSpec,
)
from blackwell_decide.scenario.starter import STARTER, write_starter

__all__ = [
    "DEFAULT_OVERLAP_MONTHS",
    "REQUIRED_SECTIONS",
    "SCHEMA",
    "STARTER",
    "CandidateSpec",
    "ConstraintSpec",
    "FacilitySpec",
    "FleetSpec",
    "MigrationSpec",
    "Ownership",
    "PriceSpec",
    "Scenario",
    "SiteCooling",
    "Thresholds",
    "TrafficClass",
    "WorkloadSpec",
    "load_scenario",
    "parse_scenario",
    "price_sources",
    "write_starter",
]
