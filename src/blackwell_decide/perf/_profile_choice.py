"""Which calibration profile predicts a deployment: the registered one for its engine and
accelerator family, or the nearest, with the reasons the prediction is then an extrapolation."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import attrs

from blackwell_decide.errors import CatalogError
from blackwell_decide.perf.ceilings import efficiency_caps
from blackwell_decide.perf.physics import DeploymentTerms
from blackwell_decide.perf.profile import CalibrationProfile
from blackwell_decide.perf.workload import Workload

if TYPE_CHECKING:
    from blackwell_decide.model import Deployment, ModelArch
    from blackwell_decide.plugins import Catalog


@attrs.frozen
class ProfileChoice:
    profile: CalibrationProfile
    extrapolated: bool
    reasons: tuple[str, ...]


def registered_profiles(catalog: Catalog) -> list[CalibrationProfile]:
    registry = catalog.calibration_profiles
    profiles = [p for p in registry.values() if isinstance(p, CalibrationProfile)]
    if not profiles:
        raise CatalogError(
            "no calibration profiles are registered: the built-in plugin "
            "blackwell_decide.builtin.calibration should provide them (see `blackwell-decide plugins`)"
        )
    return profiles


def choose_profile(
    terms: DeploymentTerms,
    workload: Workload,
    engine: str,
    *,
    deployment: Deployment | None = None,
    catalog: Catalog,
) -> ProfileChoice:
    """The registered profile for ``engine`` on the deployment's accelerator family, or the
    nearest one (same engine on a family of the same vendor, then the family closest in
    bandwidth; then another engine on the same family), with the reasons the prediction is an
    extrapolation. The vendor comes first because the kernels, GEMM and collective libraries an
    engine runs on are the vendor's (ROCm and hipBLASLt/RCCL on AMD, CUDA and cuBLAS/NCCL on
    NVIDIA): measured on MI355X, the MI300X profile is 7-9 % off in throughput where the
    bandwidth-nearest B200 one is 23-26 % off (``validate``)."""
    profiles = registered_profiles(catalog)
    family = terms.family.lower()
    reasons: list[str] = []
    exact = [p for p in profiles if p.engine == engine and p.family.lower() == family]
    if exact:
        chosen = exact[0]
    else:
        same_engine = [p for p in profiles if p.engine == engine]
        same_family = [p for p in profiles if p.family.lower() == family and p.is_fitted]
        if same_engine:
            vendor = _vendor(terms.family, catalog)
            chosen = min(
                same_engine,
                key=lambda p: (
                    _vendor(p.family, catalog) != vendor,
                    _bandwidth_distance(p, terms, catalog),
                    not p.is_fitted,
                    p.key,
                ),
            )
        elif same_family:
            chosen = same_family[0]
        else:
            chosen = min(profiles, key=lambda p: (_bandwidth_distance(p, terms, catalog), p.key))
        reasons.append(f"no {engine} profile for the {terms.family} family; using {chosen.key}")
        adapted = _on_family(chosen, terms.family, catalog)
        if adapted != chosen:
            reasons.append(
                f"achieved bandwidth {adapted.eta_bw:.2f} of peak and compute ceilings "
                f"from {terms.family} microbenchmarks"
            )
        chosen = adapted
    if chosen.borrowed_from:
        reasons.append(f"{chosen.key} has no measurements of its own: its figures are {chosen.borrowed_from}'s")
    reasons.extend(_coverage_gaps(chosen, terms, workload, deployment, catalog))
    return ProfileChoice(chosen, bool(reasons), tuple(reasons))


def _on_family(profile: CalibrationProfile, family: str, catalog: Catalog) -> CalibrationProfile:
    """A profile from another family, with the efficiencies microbenchmarks measured on this
    one: its stream fraction as the achieved bandwidth, its GEMM fraction as a ceiling."""
    caps = efficiency_caps(family, catalog=catalog)
    if not caps:
        return profile
    changes = {"eta_bw": caps.get("eta_bw", profile.eta_bw)}
    if "eta_compute" in caps:
        changes["eta_compute"] = min(profile.eta_compute, caps["eta_compute"])
        changes["eta_prefill"] = min(profile.eta_prefill, caps["eta_compute"])
    return profile.with_parameters(changes)


def _vendor(family: str, catalog: Catalog) -> str | None:
    """The vendor of ``family``'s accelerators (None when the catalog has none of it)."""
    for acc in catalog.accelerators.values():
        if acc.family.lower() == family.lower():
            return acc.vendor.lower()
    return None


def _bandwidth_distance(profile: CalibrationProfile, terms: DeploymentTerms, catalog: Catalog) -> float:
    if profile.fitted_on is None:
        return math.inf
    registry = catalog.accelerators
    widths = [registry.get(a).hbm_bandwidth for a in profile.fitted_on.accelerators if a in registry]
    if not widths:
        return math.inf
    return min(abs(math.log(w / terms.bandwidth)) for w in widths)


def _coverage_gaps(
    profile: CalibrationProfile,
    terms: DeploymentTerms,
    workload: Workload,
    deployment: Deployment | None,
    catalog: Catalog,
) -> list[str]:
    fit = profile.fitted_on
    if fit is None:
        return [f"{profile.key} has no fit record"]
    gaps = []
    if fit.accelerators and terms.accelerator not in fit.accelerators:
        gaps.append(f"accelerator {terms.accelerator} is outside {profile.key}'s data ({', '.join(fit.accelerators)})")
    if deployment is not None:
        if fit.formats and deployment.scheme.weights.key not in fit.formats:
            weights = deployment.scheme.weights.key
            gaps.append(f"weight format {weights} is outside {profile.key}'s data ({', '.join(fit.formats)})")
        if fit.models and not any(_same_architecture(deployment.model, m, catalog) for m in fit.models):
            gaps.append(f"model {deployment.model.key} is outside {profile.key}'s data ({', '.join(fit.models)})")
    return gaps


def _same_architecture(arch: ModelArch, fitted_key: str, catalog: Catalog) -> bool:
    """True when ``arch`` is the fitted model or has its exact architecture (Llama 3.1 70B and
    3.3 70B differ only in training)."""
    if arch.key == fitted_key:
        return True
    registry = catalog.models
    if fitted_key not in registry:
        return False
    other = registry.get(fitted_key)
    shape = (
        "num_layers",
        "hidden_size",
        "num_attention_heads",
        "num_kv_heads",
        "head_dim",
        "intermediate_size",
        "vocab_size",
        "moe",
        "mla",
        "sliding_window",
        "sliding_window_layers",
    )
    return all(getattr(arch, f) == getattr(other, f) for f in shape)


def resolve_profile(
    profile: CalibrationProfile | str | None,
    terms: DeploymentTerms,
    workload: Workload,
    engine: str,
    deployment: Deployment | None,
    catalog: Catalog,
) -> ProfileChoice:
    """``profile`` (a registered key or a profile) or, when None, :func:`choose_profile`'s, with
    the reasons a prediction with it is an extrapolation."""
    if profile is None:
        return choose_profile(terms, workload, engine, deployment=deployment, catalog=catalog)
    if isinstance(profile, str):
        found = catalog.calibration_profiles.get(profile)
        if not isinstance(found, CalibrationProfile):
            raise CatalogError(f"calibration profile {profile!r} is not a CalibrationProfile")
        profile = found
    reasons = []
    if profile.engine != engine:
        reasons.append(f"profile {profile.key} was fitted on {profile.engine}, not {engine}")
    if profile.family.lower() != terms.family.lower():
        reasons.append(f"profile {profile.key} is for the {profile.family} family, not {terms.family}")
    if profile.borrowed_from:
        reasons.append(f"{profile.key} has no measurements of its own: its figures are {profile.borrowed_from}'s")
    reasons.extend(_coverage_gaps(profile, terms, workload, deployment, catalog))
    return ProfileChoice(profile, bool(reasons), tuple(reasons))
