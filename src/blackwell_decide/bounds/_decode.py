"""The batch-1 decode floor of a deployment, recorded term by term: the weights streamed, the
tensor-parallel all-reduces (bounds/comm.py) and the kernels' fixed times (bounds/overheads.py),
with the assumption lines that say where each figure comes from."""

from __future__ import annotations

from blackwell_decide.bounds._evaluator import Evaluator, Value, first_source
from blackwell_decide.bounds.comm import ACTIVATION_BYTES, allreduce_cost, allreduces_per_step
from blackwell_decide.bounds.overheads import decode_overheads
from blackwell_decide.model import DERIVED, Conventions, Deployment


def record_decode_floor(ev: Evaluator, d: Deployment, conventions: Conventions, tp: Value) -> None:
    """Record ``weight_stream_s``, ``allreduce_s``, ``kernel_overhead_s`` (with the
    ``gemm_fixed_s`` it uses), ``decode_floor_s`` and ``per_user_ceiling_tok_s``; under
    ``decode_overheads=False`` the weights stream at the spec and the kernels cost nothing."""
    arch, acc = d.model, d.accelerator
    model_src = first_source(arch.sources, "config", "params")
    if conventions.decode_overheads:
        o = decode_overheads(d)
        ev.run(
            "gemm_fixed_s",
            {
                "T_gemm": (o.gemm.seconds, o.gemm_source, None),
                "S_gemm": (o.gemm.weight_bytes, o.gemm_source, None),
                "BW_ref": (o.gemm_reference_bandwidth, o.gemm_reference_source, None),
            },
            description=(
                f"fixed time of one batch-1 matmul: the measured {o.gemm.n}×{o.gemm.k} FP8 GEMM (the least excess "
                "over its bytes of the family's measurements) less its bytes at the achievable bandwidth"
            ),
        )
        bandwidth: Value = (o.bandwidth, o.bandwidth_source, None)
        kernels = {
            "N_mm": (float(o.matmuls_per_step), model_src, None),
            "t_mm": ev.ref("gemm_fixed_s"),
            "N_k": (float(o.other_kernels_per_step), o.kernel_list.source, None),
            "t_gap": (o.kernel_gap_s, o.kernel_gap_source, None),
        }
    else:
        bandwidth = (acc.hbm_bandwidth, first_source(acc.sources, "hbm_bandwidth"), None)
        kernels = {k: (0.0, DERIVED, None) for k in ("N_mm", "t_mm", "N_k", "t_gap")}
    ev.run("weight_stream_s", {"W_stream": ev.ref("streamed_bytes"), "tp": tp, "BW_stream": bandwidth})
    message = float(arch.hidden_size) * ACTIVATION_BYTES
    algorithm = allreduce_cost(acc, d.tp).best(message)
    ev.run(
        "allreduce_s",
        {
            "N_ar": (float(allreduces_per_step(arch.num_layers)), model_src, None),
            "t_ar": (algorithm.latency_s(d.tp), algorithm.latency_sources[-1], None),
            "S_msg": (message, model_src, None),
            "tp": tp,
            "BW_bus": (algorithm.bus_bandwidth, algorithm.bandwidth_source, None),
        },
    )
    ev.run("kernel_overhead_s", kernels)
    ev.run(
        "decode_floor_s",
        {
            "t_stream": ev.ref("weight_stream_s"),
            "t_comm": ev.ref("allreduce_s"),
            "t_kernels": ev.ref("kernel_overhead_s"),
        },
    )
    ev.run("per_user_ceiling_tok_s", {"t_floor": ev.ref("decode_floor_s")})


def decode_assumptions(d: Deployment, conventions: Conventions) -> list[str]:
    """The lines that say what the decode floor counts and where its figures come from."""
    lines: list[str] = []
    if conventions.decode_overheads:
        o = decode_overheads(d)
        lines.append(
            f"decode floor streams the weights at {o.bandwidth / 1e12:.3g} TB/s measured (STREAM; "
            f"spec {d.accelerator.hbm_bandwidth / 1e12:g} TB/s) and adds, per step, {o.matmuls_per_step} matmuls "
            f"× their measured fixed time and {o.other_kernels_per_step} other kernels "
            f"({', '.join(o.kernel_list.kernels)} per layer, {d.engine}) × the "
            f"{o.kernel_gap_s * 1e6:g} us kernel boundary under CUDA graphs; see kernel_overheads.toml"
        )
        lines.extend(o.notes)
    if d.tp > 1:
        ar = allreduce_cost(d.accelerator, d.tp)
        message = d.model.hidden_size * ACTIVATION_BYTES
        best = ar.best(message)
        lines.append(
            f"decode floor adds {allreduces_per_step(d.model.num_layers)} tensor-parallel all-reduces per step "
            f"(two per layer, after attention and after the MLP), each {ar.seconds(message) * 1e6:.1f} us for "
            f"{message / 1e3:g} kB over {d.tp} ranks of {ar.interconnect.key} ({best.name} kernel, "
            f"{best.latency_s(d.tp) * 1e6:.1f} us latency; measured, see interconnects.toml)"
        )
        lines.extend(ar.notes)
    return lines
