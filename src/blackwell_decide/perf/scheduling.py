"""How an engine's scheduler delays the first token: the streaming interval and batch waiting,
as a benchmark harness configured them (or the engines' defaults).

Time to first token under load is, in order (see :func:`blackwell_decide.perf.physics.simulate`
for the first four): the fixed time outside the GPU; queueing behind other prompts (the wave of
a closed loop of N clients that all start at once, as the shipped sweeps ran, and the M/D/1
wait of steady arrivals at the prefill utilisation, as Poisson arrivals at a rate see it); the
prompt's own prefill in chunks of the engine's token budget, each chunk riding on a decode step;
the engine steps until the first token is out. This module adds the scheduler settings on top:

- ``stream_interval`` (TensorRT-LLM ``stream_interval``): tokens are streamed to the client every
  that many iterations, so the first one leaves ``stream_interval − 1`` steps after it is made;
- ``batch_wait_iters`` / ``batch_wait_tokens_ratio`` (TensorRT-LLM ``batch_wait_timeout_iters``,
  ``batch_wait_max_tokens_ratio``): the scheduler holds new prompts back until the queued prompt
  tokens reach the ratio of the token budget, or the iterations run out, whichever comes first;
  with requests arriving at rate λ the tokens are there after (ratio × budget / isl − 1) / λ.

The defaults are the engines' own (stream every token, no batch waiting) and steady arrivals (no
wave). A data set's harness settings are in its manifest entry (``scheduling``), with sources,
and its wave from how many requests each client sent (``requests_per_concurrency`` k: the first
N of every k·N requests arrive together, a share of 1 / k), so validation predicts each
measurement as it was taken.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from blackwell_decide.errors import CatalogError

if TYPE_CHECKING:
    from blackwell_decide.perf.physics import DeploymentTerms, StepResult
    from blackwell_decide.perf.profile import CalibrationProfile, EngineSettings
    from blackwell_decide.perf.serving import ServingFeatures
    from blackwell_decide.perf.workload import Workload


@attrs.frozen
class Scheduling:
    """Scheduler settings that delay first tokens (see the module docstring)."""

    stream_interval: int = attrs.field(default=1, validator=attrs.validators.ge(1))
    batch_wait_iters: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    batch_wait_tokens_ratio: float = attrs.field(default=0.0, validator=attrs.validators.ge(0.0))
    #: the token budget the ratio refers to (TensorRT-LLM ``max_num_tokens``); 0: the engine's chunk size
    batch_wait_budget_tokens: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    #: share of requests that arrive in a wave with the others (a closed-loop benchmark that starts
    #: N clients at once and sends k requests each: 1 / k); 0 for steady arrivals
    wave_share: float = attrs.field(
        default=0.0, validator=attrs.validators.and_(attrs.validators.ge(0.0), attrs.validators.le(1.0))
    )
    #: the harness admitted every request in flight into the running batch, whatever the engine's
    #: default batch cap: a run that met a first-token limit far below one request's service time
    #: cannot have left requests waiting for a free slot (MLPerf Server and Interactive)
    admits_in_flight: bool = False
    source: str = ""

    @property
    def is_default(self) -> bool:
        return self.stream_interval == 1 and self.batch_wait_iters == 0


DEFAULT = Scheduling()


def harness_settings(settings: EngineSettings, scheduling: Scheduling, concurrency: Any) -> EngineSettings:
    """The engine settings a harness ran ``concurrency`` clients with: the batch cap raised to
    hold them all where the harness admitted every request in flight (the KV cache still limits
    the batch)."""
    if not scheduling.admits_in_flight:
        return settings
    most = math.ceil(float(np.max(np.asarray(concurrency, dtype=np.float64), initial=1.0)))
    return settings if most <= settings.max_batch else attrs.evolve(settings, max_batch=most)


def first_token_delay(result: StepResult, scheduling: Scheduling, workload: Workload, chunk_tokens: int) -> Any:
    """Seconds the scheduler settings add to each point's TTFT."""
    tpot = result.tpot_s
    delay = (scheduling.stream_interval - 1.0) * tpot
    if scheduling.batch_wait_iters > 0:
        budget = scheduling.batch_wait_budget_tokens or chunk_tokens
        prompts_needed = max(scheduling.batch_wait_tokens_ratio * budget / workload.isl - 1.0, 0.0)
        until_full = prompts_needed / np.maximum(result.requests_per_s, 1e-12)
        delay = delay + np.minimum(scheduling.batch_wait_iters * tpot, until_full)
    return delay


def simulate_served(
    terms: DeploymentTerms,
    profile: CalibrationProfile,
    workload: Workload,
    concurrency: Any,
    *,
    online: bool = True,
    features: ServingFeatures | None = None,
    scheduling: Scheduling = DEFAULT,
) -> StepResult:
    """The step physics (:func:`~blackwell_decide.perf.physics.simulate`) with the serving
    features (prefix cache, speculative decoding) and the scheduler's first-token delay."""
    from blackwell_decide.perf.physics import simulate
    from blackwell_decide.perf.serving import apply_speculation, prefilled_tokens

    prefilled = None if features is None else prefilled_tokens(workload, features)
    values = np.asarray(concurrency, dtype=np.float64)
    # The wave of clients that start at once is the benchmark's, not the engine's: its share
    # comes from how the measurement was run (none for a steadily loaded deployment).
    if profile.burst_share != scheduling.wave_share:
        profile = profile.with_parameters({"burst_share": scheduling.wave_share})
    settings = harness_settings(profile.engine_settings, scheduling, values)
    if settings != profile.engine_settings:
        profile = attrs.evolve(profile, engine_settings=settings)
    result = simulate(terms, profile, workload, values, online=online, prefill_tokens=prefilled)
    if features is not None and features.speculative is not None:
        result = apply_speculation(result, features.speculative, terms.model, workload, terms.tp)
    if not scheduling.is_default:
        delay = first_token_delay(result, scheduling, workload, profile.engine_settings.chunk_tokens)
        result = attrs.evolve(result, ttft_s=result.ttft_s + delay)
    return result


def scheduling_rules(raw: Sequence[Mapping[str, Any]], origin: str) -> tuple[tuple[Mapping[str, Any], Scheduling], ...]:
    """A manifest's ``scheduling`` list: each entry names the ``engine`` and optionally
    ``tp_below`` it applies to, and the settings with their ``source``."""
    out = []
    for entry in raw:
        try:
            condition = {"engine": str(entry["engine"]), "tp_below": int(entry.get("tp_below", 0))}
            settings = Scheduling(
                stream_interval=int(entry.get("stream_interval", 1)),
                batch_wait_iters=int(entry.get("batch_wait_iters", 0)),
                batch_wait_tokens_ratio=float(entry.get("batch_wait_tokens_ratio", 0.0)),
                batch_wait_budget_tokens=int(entry.get("batch_wait_budget_tokens", 0)),
                admits_in_flight=_flag(entry.get("admits_in_flight", False)),
                source=str(entry["source"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CatalogError(f"{origin}: bad scheduling entry {entry!r} ({exc})") from exc
        out.append((condition, settings))
    return tuple(out)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"admits_in_flight must be true or false, not {value!r}")
    return value


def scheduling_for(dataset_id: str, engine: str, tp: int) -> Scheduling:
    """The scheduler settings a shipped data set's harness ran ``engine`` with at ``tp`` (the
    first matching manifest rule; the engine's defaults where none matches)."""
    from blackwell_decide.datasets import get_dataset

    try:
        info = get_dataset(dataset_id)
    except Exception:  # a user's own file: the engine's defaults, steady arrivals
        return DEFAULT
    wave = 1.0 / info.requests_per_concurrency if info.requests_per_concurrency > 0 else 0.0
    for condition, settings in scheduling_rules(info.scheduling, f"datasets/manifest.json {dataset_id}"):
        if condition["engine"] != engine:
            continue
        if condition["tp_below"] and tp >= condition["tp_below"]:
            continue
        return attrs.evolve(settings, wave_share=wave)
    return Scheduling(wave_share=wave)
