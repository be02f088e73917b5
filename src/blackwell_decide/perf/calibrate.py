"""Calibrating profiles from measurements: group them by accelerator family and engine, start
from the registered profile of each pair (for its engine settings and the figures the data cannot
pin down), bound the efficiencies by the shipped microbenchmarks, and fit the engines of a family
together (they share the decode matmul efficiency)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from blackwell_decide.errors import UsageError
from blackwell_decide.perf._profile_choice import registered_profiles
from blackwell_decide.perf.ceilings import efficiency_caps, shipped_microbenchmarks
from blackwell_decide.perf.evaluate import DeploymentCache
from blackwell_decide.perf.fit import FitResult, fit_profiles
from blackwell_decide.perf.ingest import Measurement
from blackwell_decide.perf.profile import CalibrationProfile, check_engine

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog


def base_profile(engine: str, family: str, catalog: Catalog) -> CalibrationProfile:
    """The registered profile for (engine, family), or a copy of the engine's profile on another
    family re-keyed for this one (engine settings are per engine)."""
    profiles = registered_profiles(catalog)
    for p in profiles:
        if p.engine == engine and p.family.lower() == family.lower():
            return p
    same_engine = [p for p in profiles if p.engine == engine]
    if not same_engine:
        raise UsageError(f"no registered profile for engine {engine!r} to take its engine settings from")
    return attrs.evolve(same_engine[0], key=f"{engine}-{family.lower()}", family=family.lower(), fitted_on=None)


def calibrate(
    measurements: Sequence[Measurement],
    *,
    engine: str | None = None,
    family: str | None = None,
    held_out: Sequence[Measurement] = (),
    cross_validate: bool = True,
    catalog: Catalog,
    cache: DeploymentCache | None = None,
    today: str | None = None,
) -> list[FitResult]:
    """Fit one profile per (engine, accelerator family) found in ``measurements`` (only
    ``engine`` / ``family`` when given); the engines of one family share their decode matmul
    efficiency. ``held_out`` rows of the same pair measure the error on data not used for
    fitting."""
    cache = cache or DeploymentCache(catalog)
    engine = check_engine(engine, catalog) if engine else None
    groups: dict[str, dict[str, list[Measurement]]] = {}
    unresolved: list[str] = []
    for m in measurements:
        try:
            terms = cache.terms(m.deployment_key)
        except Exception as exc:  # reported below when nothing at all resolves
            unresolved.append(f"{m.label}: {exc}")
            continue
        pair_family = terms.family.lower()
        if (engine is None or m.engine == engine) and (family is None or pair_family == family.lower()):
            groups.setdefault(pair_family, {}).setdefault(m.engine, []).append(m)
    if not groups:
        detail = f" ({'; '.join(unresolved[:3])})" if unresolved else ""
        wanted = " ".join(x for x in (engine, family) if x)
        raise UsageError(f"no measurements to fit{' for ' + wanted if wanted else ''}{detail}")
    micro = shipped_microbenchmarks()
    results: list[FitResult] = []
    for group_family, by_engine in sorted(groups.items()):
        held = [m for m in held_out if _family_of(m, cache) == group_family]
        results.extend(
            fit_profiles(
                [(rows, base_profile(e, group_family, catalog)) for e, rows in sorted(by_engine.items())],
                held_out=held,
                caps=efficiency_caps(group_family, micro, catalog=catalog),
                cross_validate=cross_validate,
                cache=cache,
                today=today,
            )
        )
    return results


def _family_of(m: Measurement, cache: DeploymentCache) -> str | None:
    try:
        return cache.terms(m.deployment_key).family.lower()
    except Exception:  # an unresolvable held-out row simply belongs to no group
        return None
