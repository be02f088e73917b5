"""Whether a deployment can serve a workload at all: the request fits the model's context window,
and the KV cache the engine's memory settings leave holds at least one whole request. Every
prediction entry point runs this one check first, so an impossible workload is an error that
says how to fix it, never a number."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from blackwell_decide.errors import BlackwellDecideError, DoesNotFitError
from blackwell_decide.perf.physics import DeploymentTerms, deployment_terms, kv_budget_bytes
from blackwell_decide.perf.workload import Workload
from blackwell_decide.units import GB

if TYPE_CHECKING:
    from blackwell_decide.model import Deployment, NumberFormat
    from blackwell_decide.perf.profile import EngineSettings
    from blackwell_decide.plugins import Catalog


class RequestDoesNotFitError(DoesNotFitError):
    """A request longer than the model's context window, or whose KV cache is larger than the
    room the engine's memory settings leave on the deployment."""


def request_kv_bytes(terms: DeploymentTerms, settings: EngineSettings, workload: Workload) -> float:
    """KV bytes per GPU that one request needs: its whole context at its last token, or what the
    engine reserves for it (see :class:`EngineSettings`), whichever is larger (with sliding
    windows the engine's per-token average over the mean context can exceed the exact figure)."""
    length = float(workload.isl + workload.osl)
    reserved = workload.isl + (workload.osl if settings.kv_reservation == "full" else workload.osl / 2.0)
    context = workload.decode_context
    return max(
        terms.kv_bytes_per_token(length) * length,
        terms.kv_bytes_per_token(context) * reserved,
    )


def check_servable(
    deployment: Deployment,
    terms: DeploymentTerms,
    settings: EngineSettings,
    workload: Workload,
    engine: str,
    *,
    catalog: Catalog,
) -> None:
    """Raise :class:`RequestDoesNotFitError` when ``workload`` is longer than the model's context
    window or one request's KV cache does not fit the room ``settings`` leave; the message names
    both figures and the smallest tensor-parallel size (or smaller KV format) that holds one."""
    check_context(terms, workload)
    need = request_kv_bytes(terms, settings, workload)
    room = kv_budget_bytes(terms, settings)
    if need <= room:
        return
    d = deployment
    problem = (
        f"{terms.label} on {engine}: one request of {workload.isl:,} + {workload.osl:,} tokens needs "
        f"{need / GB:.2f} GB of KV cache per GPU, but {engine}'s memory settings leave {room / GB:.2f} GB "
        f"per GPU for it at --tp {d.tp} ({terms.resident_weight_bytes / GB:.1f} GB of weights per GPU)"
    )
    fixes = []
    bigger = _smallest_holding_tp(d, settings, workload)
    if bigger is not None:
        tp, tp_room, tp_need = bigger
        fixes.append(
            f"the smallest tensor-parallel size that holds one request is --tp {tp} "
            f"({tp_need / GB:.2f} GB needed, {tp_room / GB:.2f} GB of room per GPU)"
        )
    else:
        fixes.append(f"no tensor-parallel size up to {_tp_candidates()[-1]} holds one request")
    smaller = _smaller_holding_kv(d, settings, workload, catalog)
    if smaller is not None:
        fixes.append(f"or, at --tp {d.tp}, --kv {smaller.key} holds one")
    fixes.append("or shorten the request (--isl/--osl)")
    raise RequestDoesNotFitError(f"{problem}; {', '.join(fixes)}.")


def check_context(terms: DeploymentTerms, workload: Workload) -> None:
    """Raise :class:`RequestDoesNotFitError` when a request (prompt plus output) is longer than
    the model's context window (``max_position_embeddings``)."""
    longest = terms.model.max_position_embeddings
    length = workload.isl + workload.osl
    if longest is not None and length > longest:
        raise RequestDoesNotFitError(
            f"a request of {workload.isl:,} input + {workload.osl:,} output = {length:,} tokens is longer than "
            f"{terms.model.name}'s context window of {longest:,} tokens (max_position_embeddings); "
            "shorten --isl/--osl so that they add up to at most that"
        )


def _tp_candidates() -> tuple[int, ...]:
    from blackwell_decide.bounds.compute import TP_CANDIDATES

    return TP_CANDIDATES


def _holds_one(deployment: Deployment, settings: EngineSettings, workload: Workload) -> tuple[float, float] | None:
    """(room, need) per GPU when ``deployment`` holds one request, None when it does not (or
    its weights do not fit at all)."""
    try:
        terms = deployment_terms(deployment)
    except BlackwellDecideError:
        return None
    need = request_kv_bytes(terms, settings, workload)
    room = kv_budget_bytes(terms, settings)
    return (room, need) if need <= room else None


def _smallest_holding_tp(
    deployment: Deployment, settings: EngineSettings, workload: Workload
) -> tuple[int, float, float] | None:
    from blackwell_decide.resolve import check_tensor_parallel

    for tp in _tp_candidates():
        if tp <= deployment.tp:
            continue
        try:
            check_tensor_parallel(deployment.model, tp)
        except BlackwellDecideError:
            continue
        held = _holds_one(attrs.evolve(deployment, tp=tp), settings, workload)
        if held is not None:
            return tp, *held
    return None


def _smaller_holding_kv(
    deployment: Deployment, settings: EngineSettings, workload: Workload, catalog: Catalog
) -> NumberFormat | None:
    """The widest KV format narrower than the current one, stored without zero points and run
    natively by the accelerator, that holds one request at the same tensor-parallel size."""
    current = deployment.scheme.kv_cache
    candidates = sorted(
        (
            f
            for f in catalog.formats.values()
            if f.bytes_per_param < current.bytes_per_param
            and not f.zero_point_bits
            and deployment.accelerator.runs_natively(f.key)
        ),
        key=lambda f: -f.bytes_per_param,
    )
    for fmt in candidates:
        scheme = attrs.evolve(deployment.scheme, kv_cache=fmt)
        if _holds_one(attrs.evolve(deployment, scheme=scheme), settings, workload) is not None:
            return fmt
    return None
