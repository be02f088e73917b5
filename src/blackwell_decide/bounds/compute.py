"""Numeric bounds for a deployment, each through its compiled formula and with its inputs' sources."""

from __future__ import annotations

from collections.abc import Iterable

from blackwell_decide.bounds._decode import decode_assumptions, record_decode_floor
from blackwell_decide.bounds._evaluator import Evaluator, Value
from blackwell_decide.bounds._evaluator import first_source as _first_source
from blackwell_decide.bounds.kv_room import deployment_memory, kv_room_inputs
from blackwell_decide.bounds.prefill import causal_attention_flops_per_token, prefill_work
from blackwell_decide.bounds.results import Bounds
from blackwell_decide.errors import DoesNotFitError, UsageError
from blackwell_decide.model import (
    DERIVED,
    USER_INPUT,
    CapacityBasis,
    Conventions,
    Deployment,
    KvRoomBasis,
    Source,
)
from blackwell_decide.units import GB

DEFAULT_SEQ_LENS: tuple[int, ...] = (8192, 32768)
TP_CANDIDATES: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128)


def apply_conventions(deployment: Deployment, conventions: Conventions) -> Deployment:
    """The deployment with the conventions' alternative accelerator figures swapped in."""
    if not conventions.figures:
        return deployment
    import attrs

    return attrs.evolve(deployment, accelerator=deployment.accelerator.with_figures(conventions.figures))


def capacity(deployment: Deployment, conventions: Conventions) -> tuple[float, Source | None]:
    acc = deployment.accelerator
    if conventions.capacity_basis is CapacityBasis.LABEL:
        return acc.memory_label_bytes, _first_source(acc.sources, "memory_label_gb", "memory_bytes")
    return acc.memory_bytes, _first_source(acc.sources, "memory_bytes")


def weight_bytes_total(deployment: Deployment) -> float:
    """All stored weight bytes of the model (every expert, embedding, lm_head, norms)."""
    p = deployment.model.params
    s = deployment.scheme
    return (
        (p.linear - p.routed_expert) * s.dense_weights.bytes_per_param
        + p.routed_expert * s.weights.bytes_per_param
        + (p.embedding + p.lm_head_stored + p.other) * s.embeddings.bytes_per_param
    )


def _kv_room_formula(
    deployment: Deployment, conventions: Conventions, capacity: float, weights_per_gpu: float
) -> tuple[str, dict[str, float]]:
    """The KV-room formula of ``deployment`` under ``conventions`` and its symbol values: the
    engine's memory settings, or (``KvRoomBasis.PHYSICAL``) capacity less the resident bytes."""
    if conventions.kv_room is KvRoomBasis.PHYSICAL:
        return "kv_room_physical", {
            "C_hbm": capacity,
            "M_resident": weights_per_gpu + conventions.runtime_reserve_bytes,
            "H_headroom": conventions.kv_headroom_bytes,
        }
    m = deployment_memory(deployment)
    inputs = kv_room_inputs(
        m.memory_fraction, m.runtime_reserve_bytes, capacity, weights_per_gpu, conventions.kv_headroom_bytes
    )
    return m.formula_name, inputs


def kv_room_at(deployment: Deployment, conventions: Conventions, tp: int | None = None) -> float:
    """The KV room per GPU (bytes; zero or less when none) of ``deployment`` at ``tp`` (default:
    its own): the figure :func:`compute_bounds` records as ``kv_budget_bytes``."""
    from blackwell_decide.bounds import formulas

    cap, _ = capacity(deployment, conventions)
    weights = weight_bytes_total(deployment) / (tp or deployment.tp)
    name, values = _kv_room_formula(deployment, conventions, cap, weights)
    f = formulas.compiled(name)
    return float(f(**{a: values[a] for a in f.args}))


def smallest_fitting_tp(deployment: Deployment, conventions: Conventions) -> int | None:
    """The smallest tensor-parallel size whose weight shard leaves room for some KV cache
    (under the engine's memory settings, or physically under ``KvRoomBasis.PHYSICAL``)."""
    d = apply_conventions(deployment, conventions)
    for tp in TP_CANDIDATES:
        if kv_room_at(d, conventions, tp) > 0:
            return tp
    return None


def _room_words(deployment: Deployment, conventions: Conventions) -> str:
    if conventions.kv_room is KvRoomBasis.PHYSICAL:
        return f"with the {conventions.runtime_reserve_bytes / GB:g} GB runtime reserve"
    return f"under {deployment_memory(deployment).describe()[len('KV room = ') :]}"


def _check_fits(deployment: Deployment, conventions: Conventions, room: float, cap: float) -> None:
    if room > 0:
        return
    d = deployment
    basis = "device bytes" if conventions.capacity_basis is CapacityBasis.DEVICE else "label"
    weights = weight_bytes_total(d)
    smallest = smallest_fitting_tp(d, conventions)
    if smallest is None:
        fix = f"no tensor-parallel size up to {TP_CANDIDATES[-1]} fits; use a smaller weight format"
    else:
        fix = (
            f"the smallest tensor-parallel size that fits is --tp {smallest} "
            f"({weights / smallest / GB:.1f} GB of weights per GPU, "
            f"{kv_room_at(d, conventions, smallest) / GB:.1f} GB left for the KV cache)"
        )
    engine_fix = (
        ""
        if conventions.kv_room is KvRoomBasis.PHYSICAL
        else "; or raise the engine's memory fraction (--memory-fraction)"
    )
    raise DoesNotFitError(
        f"{d.model.key} with {d.scheme.weights.key} weights does not fit on {d.tp} × {d.accelerator.key}: "
        f"it needs {weights / GB:.1f} GB of weights, {weights / d.tp / GB:.1f} GB per GPU at --tp {d.tp}, "
        f"against {cap / GB:.1f} GB per GPU ({basis}), which leaves {room / GB:.1f} GB for the KV cache "
        f"{_room_words(d, conventions)}; {fix}{engine_fix}."
    )


def _record_kv_room(ev: Evaluator, d: Deployment, conventions: Conventions, cap: Value) -> float:
    """Record the KV room (``kv_budget_bytes``: the engine's, or the physical one under
    ``KvRoomBasis.PHYSICAL``) and the physical upper bound beside it (``kv_room_physical_bytes``)."""
    headroom = (conventions.kv_headroom_bytes, USER_INPUT, None)
    physical_inputs = {"C_hbm": cap, "M_resident": ev.ref("resident_bytes"), "H_headroom": headroom}
    ev.run(
        "kv_room_physical",
        physical_inputs,
        name="kv_room_physical_bytes",
        description="physical upper bound of the KV room per GPU: capacity less weights and the runtime reserve",
    )
    if conventions.kv_room is KvRoomBasis.PHYSICAL:
        return ev.run(
            "kv_room_physical",
            physical_inputs,
            name="kv_budget_bytes",
            description="KV room per GPU: capacity less the resident bytes (the physical reading)",
        )
    m = deployment_memory(d)
    return ev.run(
        m.formula_name,
        {
            "f_mem": (m.memory_fraction, m.fraction_source(), None),
            "R_engine": (m.runtime_reserve_bytes, DERIVED, None),
            "C_hbm": cap,
            "W_gpu": ev.ref("weight_bytes_per_gpu"),
            "H_headroom": headroom,
        },
        name="kv_budget_bytes",
        description=f"KV room per GPU under {m.engine}'s memory settings",
    )


def kv_replication(deployment: Deployment) -> float:
    """Copies of each cached KV head across the TP group: MLA's latent is replicated on every
    rank; GQA heads are split until there are fewer heads than ranks."""
    arch = deployment.model
    if arch.mla is not None:
        return float(deployment.tp)
    return max(1.0, deployment.tp / arch.num_kv_heads)


#: Below 1 % of peak FLOP/s a prefill utilisation is a slip (0.0075 for 75 %), and the ceiling
#: it gives rounds to 0 tok/s.
MIN_PREFILL_UTILIZATION = 0.01


def _checked_lengths(
    seq_lens: Iterable[int], prefill_utilization: float, prompt_tokens: int | None
) -> tuple[tuple[int, ...], int]:
    """The sequence lengths and the prompt length :func:`compute_bounds` runs at, or a UsageError."""
    if not MIN_PREFILL_UTILIZATION <= prefill_utilization <= 1:
        raise UsageError(
            f"prefill utilisation must be from {MIN_PREFILL_UTILIZATION:g} to 1 (a fraction of peak FLOP/s), "
            f"got {prefill_utilization:g}"
        )
    lengths = tuple(int(x) for x in seq_lens)
    if not lengths or any(x <= 0 for x in lengths):
        raise UsageError(f"sequence lengths must be positive, got {lengths}")
    prompt = int(prompt_tokens) if prompt_tokens is not None else min(lengths)
    if prompt <= 0:
        raise UsageError(f"the prompt length must be positive, got {prompt_tokens}")
    return lengths, prompt


def compute_bounds(
    deployment: Deployment,
    conventions: Conventions | None = None,
    *,
    seq_lens: Iterable[int] = DEFAULT_SEQ_LENS,
    prefill_utilization: float = 0.75,
    prompt_tokens: int | None = None,
) -> Bounds:
    """Decode floor and ceiling, KV room, roofline and prefill ceiling for ``deployment``; the
    prefill ceiling at prompts of ``prompt_tokens`` (default: the shortest of ``seq_lens``).

    Raises :class:`DoesNotFitError` (with the smallest tensor-parallel size that fits) when the
    weights leave no room for a KV cache.
    """
    conventions = conventions or Conventions()
    lengths, prompt = _checked_lengths(seq_lens, prefill_utilization, prompt_tokens)
    d = apply_conventions(deployment, conventions)
    ev = Evaluator()
    tp = (float(d.tp), USER_INPUT, None)
    # The derivations are recorded in this order (the report lists them so), and each step
    # refers to figures the earlier ones recorded.
    _record_weight_bytes(ev, d, conventions, tp)
    cap, cap_src = capacity(d, conventions)
    room = _record_kv_room(ev, d, conventions, (cap, cap_src, None))
    _check_fits(d, conventions, room, cap)
    record_decode_floor(ev, d, conventions, tp)
    _record_kv_bytes_per_token(ev, d, max(lengths))
    _record_kv_capacity(ev, d, tp, lengths)
    _record_roofline_and_prefill(ev, d, conventions, tp, prefill_utilization, prompt)
    return Bounds(
        deployment=d,
        conventions=conventions,
        derivations=ev.derivations,
        assumptions=_assumptions(d, conventions, d.compute_format, prompt),
        seq_lens=lengths,
        prefill_utilization=prefill_utilization,
        prompt_tokens=prompt,
    )


def _model_source(d: Deployment) -> Source | None:
    return _first_source(d.model.sources, "config", "params")


def _record_weight_bytes(ev: Evaluator, d: Deployment, conventions: Conventions, tp: Value) -> None:
    """Record the bytes streamed per decode step and the resident weight bytes per GPU (without
    and with the runtime reserve)."""
    p, scheme = d.model.params, d.scheme
    model_src = _model_source(d)
    w_src = _first_source(scheme.weights.sources, "definition")
    dense_src = _first_source(scheme.dense_weights.sources, "definition")
    e_src = _first_source(scheme.embeddings.sources, "definition")
    s_embed = 1.0 if conventions.stream_embeddings else 0.0
    ev.run(
        "streamed_bytes",
        {
            "N_linear": (float(p.linear_active), model_src, None),
            "N_expert": (float(p.routed_expert_active), model_src, None),
            "b_weights": (scheme.weights.bytes_per_param, w_src, None),
            "b_dense": (scheme.dense_weights.bytes_per_param, dense_src, None),
            "N_lm_head": (float(p.lm_head), model_src, None),
            "N_embedding": (float(p.embedding), model_src, None),
            "N_other": (float(p.other_active), model_src, None),
            "b_embed": (scheme.embeddings.bytes_per_param, e_src, None),
            "s_embed": (s_embed, USER_INPUT, None),
        },
    )
    stored: dict[str, Value] = {
        "N_linear_total": (float(p.linear), model_src, None),
        "N_expert_total": (float(p.routed_expert), model_src, None),
        "b_weights": (scheme.weights.bytes_per_param, w_src, None),
        "b_dense": (scheme.dense_weights.bytes_per_param, dense_src, None),
        "N_embedding": (float(p.embedding), model_src, None),
        "N_lm_head_stored": (float(p.lm_head_stored), model_src, None),
        "N_other": (float(p.other), model_src, None),
        "b_embed": (scheme.embeddings.bytes_per_param, e_src, None),
        "tp": tp,
    }
    ev.run(
        "resident_bytes",
        {**stored, "R_reserve": (0.0, USER_INPUT, None)},
        name="weight_bytes_per_gpu",
        description="weight bytes per GPU (the shard of every stored weight, no reserve)",
    )
    ev.run("resident_bytes", {**stored, "R_reserve": (conventions.runtime_reserve_bytes, USER_INPUT, None)})


def _record_kv_bytes_per_token(ev: Evaluator, d: Deployment, longest: int) -> None:
    """Record the KV-cache bytes per token: MLA's latent, sliding-window layers averaged over
    ``longest`` tokens, or full GQA heads."""
    arch = d.model
    model_src = _model_source(d)
    kv_b = (d.scheme.kv_cache.bytes_per_param, _first_source(d.scheme.kv_cache.sources, "definition"), None)
    if arch.mla is not None:
        ev.run(
            "kv_bytes_per_token_mla",
            {
                "L_layers": (float(arch.num_layers), model_src, None),
                "r_kv": (float(arch.mla.kv_lora_rank), model_src, None),
                "d_rope": (float(arch.mla.qk_rope_head_dim), model_src, None),
                "b_kv": kv_b,
            },
            name="kv_bytes_per_token",
        )
    elif arch.sliding_window_layers:
        # Sliding-window layers hold at most a window of tokens: averaged over the longest length.
        ev.run(
            "kv_bytes_per_token_elements",
            {"E_kv": (arch.kv_elements_per_token(longest), model_src, None), "b_kv": kv_b},
            name="kv_bytes_per_token",
        )
    else:
        ev.run(
            "kv_bytes_per_token_gqa",
            {
                "L_layers": (float(arch.num_layers), model_src, None),
                "H_kv": (float(arch.num_kv_heads), model_src, None),
                "d_head": (float(arch.head_dim), model_src, None),
                "b_kv": kv_b,
            },
            name="kv_bytes_per_token",
        )


def _record_kv_capacity(ev: Evaluator, d: Deployment, tp: Value, seq_lens: tuple[int, ...]) -> None:
    """Record the tokens the KV room holds (engine and physical) and the concurrency at each length."""
    for room_name, tokens_name in (("kv_budget_bytes", "kv_tokens"), ("kv_room_physical_bytes", "kv_tokens_physical")):
        ev.run(
            "kv_tokens",
            {
                "tp": tp,
                "B_kv": ev.ref(room_name),
                "KV_token": ev.ref("kv_bytes_per_token"),
                "rep_kv": (kv_replication(d), DERIVED, None),
            },
            name=tokens_name,
            description=None
            if tokens_name == "kv_tokens"
            else "tokens the physical upper bound of the KV room holds (whole tensor-parallel group)",
        )
    for length in seq_lens:
        ev.run(
            "concurrency",
            {"T_kv": ev.ref("kv_tokens"), "L_seq": (float(length), USER_INPUT, None)},
            name=f"concurrency_at_{length}",
            description=f"requests held in the KV cache at an average sequence length of {length} tokens",
        )


def _record_roofline_and_prefill(
    ev: Evaluator, d: Deployment, conventions: Conventions, tp: Value, prefill_utilization: float, prompt: int
) -> None:
    """Record the roofline (ridge point, decode intensity, decode's fraction of peak) and the
    prefill ceiling: per format (bounds/prefill.py) or at one peak for every token."""
    acc, p = d.accelerator, d.model.params
    model_src = _model_source(d)
    fmt = d.compute_format
    bw = (acc.hbm_bandwidth, _first_source(acc.sources, "hbm_bandwidth"), None)
    peak = (acc.peak_flops(fmt), _first_source(acc.sources, f"dense_flops.{fmt}"), None)
    ev.run("ridge_flops_per_byte", {"F_peak": peak, "BW": bw})
    n_compute = float(p.compute_active + (p.embedding + p.other if conventions.stream_embeddings else 0))
    ev.run("decode_intensity", {"N_compute": (n_compute, model_src, None), "W_stream": ev.ref("streamed_bytes")})
    intensity = (
        (conventions.decode_intensity, USER_INPUT, None)
        if conventions.decode_intensity is not None
        else ev.ref("decode_intensity")
    )
    ev.run("decode_fraction_of_peak", {"I_decode": intensity, "BW": bw, "F_peak": peak})
    if conventions.prefill_by_format:
        _record_prefill(ev, d, prompt, tp, model_src)
        ev.run(
            "prefill_ceiling_tok_s",
            {"u_prefill": (prefill_utilization, USER_INPUT, None), "t_prefill": ev.ref("prefill_s_per_token")},
        )
    else:
        uniform: dict[str, Value] = {
            "u_prefill": (prefill_utilization, USER_INPUT, None),
            "tp": tp,
            "F_peak": peak,
            "N_compute": (n_compute, model_src, None),
        }
        ev.run("prefill_uniform_tok_s", uniform, name="prefill_ceiling_tok_s")


def _record_prefill(ev: Evaluator, d: Deployment, prompt: int, tp: Value, model_src: Source | None) -> None:
    """Record the prefill time per prompt token: each matmul at its format's peak (bounds/prefill.py)."""
    work = prefill_work(d)
    acc = d.accelerator

    def peak_of(fmt: str) -> Value:
        return (acc.peak_flops(fmt), _first_source(acc.sources, f"dense_flops.{fmt}"), None)

    ev.run(
        "prefill_s_per_token",
        {
            "A_expert": (work.expert_flops, model_src, None),
            "F_expert": peak_of(work.expert_format),
            "A_dense": (work.dense_flops, model_src, None),
            "F_dense": peak_of(work.dense_format),
            "A_attn": (causal_attention_flops_per_token(d.model, prompt), model_src, None),
            "F_attn": peak_of(work.attention_format),
            "A_lm_head": (work.lm_head_flops, model_src, None),
            "F_lm_head": peak_of(work.lm_head_format),
            "P_prompt": (float(prompt), USER_INPUT, None),
            "tp": tp,
        },
    )


def _assumptions(d: Deployment, conventions: Conventions, compute_format: str, prompt_tokens: int) -> tuple[str, ...]:
    lines = list(conventions.describe())
    if d.weight_only:
        lines.append(
            f"{d.accelerator.name} has no tensor (matrix) cores for {d.scheme.weights.key}: weights are stored at "
            f"{d.scheme.weights.bytes_per_param:g} B/param but dequantised, and matmuls run at {compute_format} "
            "(weight-only quantisation; memory and bandwidth gain, no compute gain)"
        )
    if d.scheme.non_expert_weights is not None:
        lines.append(
            f"routed experts stored at {d.scheme.weights.key}, attention and other linear layers at "
            f"{d.scheme.non_expert_weights.key}"
        )
    lines.extend(decode_assumptions(d, conventions))
    lines.append(f"peak FLOP/s are dense {compute_format} figures (no 2:4 sparsity)")
    if conventions.prefill_by_format:
        work = prefill_work(d)
        lines.append(
            f"prefill ceiling at {prompt_tokens:,}-token prompts: 2 FLOPs per multiplied parameter, each matmul at "
            f"the peak of the wider of its operands (experts {work.expert_format}, other linear layers "
            f"{work.dense_format}, lm_head {work.lm_head_format}, once per prompt), attention over the causal "
            f"prompt at {work.attention_format}"
        )
    else:
        lines.append(
            "prefill ceiling counts 2 FLOPs per multiplied parameter for every token at one peak and leaves out "
            "attention FLOPs"
        )
    if d.model.moe is not None:
        lines.append("batch-1 decode streams only the active experts; larger batches touch more of them")
    if d.scheme.weights.per_tensor_scale_bits:
        lines.append(
            f"{d.scheme.weights.key}'s per-tensor scales ({d.scheme.weights.per_tensor_scale_bits} bits per tensor) "
            "are left out: a few kilobytes per model"
        )
    return tuple(lines)
