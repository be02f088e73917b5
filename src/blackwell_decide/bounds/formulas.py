"""The physical bounds as sympy expressions, each defined once here and compiled ahead of time.

This module is the one definition of every bound (:func:`formulas`), but importing it does not
import sympy (about half a second on a small machine): only symbolic work does (:func:`formula`,
:func:`lambdified`, :func:`factorise_ratio`, printing). Numeric evaluation goes through
:func:`compiled`, which reads the generated module ``_compiled_formulas``: per formula its
argument names, a plain numpy function (sympy's lambdify with common-subexpression elimination,
written out as source), its text and its LaTeX, so computing a bound never touches sympy. After
editing a formula here, regenerate that module with ``python -m blackwell_decide.bounds._generate``;
tests/test_compiled_formulas.py fails while the two differ.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import numpy as np


@attrs.frozen
class Symbol:
    name: str
    unit: str
    description: str

    @functools.cached_property
    def sym(self) -> Any:
        import sympy as sp

        return sp.Symbol(self.name, positive=True)


_SYMBOLS: dict[str, Symbol] = {
    s.name: s
    for s in (
        Symbol("N_linear", "params", "linear (matmul) parameters read per token, excluding embedding and lm_head"),
        Symbol("N_linear_total", "params", "all linear parameters stored (every expert)"),
        Symbol("N_expert", "params", "routed-expert parameters read per token (0 for a dense model)"),
        Symbol("N_expert_total", "params", "routed-expert parameters stored (0 for a dense model)"),
        Symbol("b_weights", "B/param", "bytes per parameter of the weight format, block scales included"),
        Symbol(
            "b_dense",
            "B/param",
            "bytes per parameter of the linear layers outside the routed experts (the weight format unless a "
            "checkpoint keeps them wider)",
        ),
        Symbol("N_lm_head", "params", "lm_head parameters (vocab × hidden)"),
        Symbol("N_lm_head_stored", "params", "lm_head parameters stored separately (0 when tied to the embedding)"),
        Symbol("N_embedding", "params", "embedding-table parameters (vocab × hidden)"),
        Symbol("N_other", "params", "norm and bias parameters, kept in the embedding format"),
        Symbol("b_embed", "B/param", "bytes per parameter of the embedding / lm_head format"),
        Symbol("s_embed", "0 or 1", "1 when the embedding table is counted as streamed every step (a convention)"),
        Symbol("W_stream", "B", "bytes streamed from HBM per decode step (whole model)"),
        Symbol("M_resident", "B", "resident bytes per GPU: weight shard plus runtime reserve"),
        Symbol("R_reserve", "B", "runtime reserve per GPU (activations, CUDA graphs, allocator)"),
        Symbol("tp", "GPUs", "tensor-parallel size"),
        Symbol("BW", "B/s", "HBM bandwidth per GPU"),
        Symbol(
            "BW_stream",
            "B/s",
            "HBM bandwidth per GPU the weights stream at: measured (STREAM), or the spec under conventions that say so",
        ),
        Symbol("t_floor", "s", "decode floor per token at batch 1"),
        Symbol("t_stream", "s", "time to stream the weights once at the achievable HBM bandwidth"),
        Symbol("t_comm", "s", "tensor-parallel all-reduce time per decode step"),
        Symbol("t_kernels", "s", "fixed time of the step's kernels: matmul fill and drain, boundaries of the others"),
        Symbol("N_mm", "kernels", "weight-streaming matmul kernels per decode step (model architecture)"),
        Symbol("t_mm", "s", "fixed time of one batch-1 matmul beyond its bytes at the achievable bandwidth"),
        Symbol("N_k", "kernels", "other kernels per decode step (the serving engine's kernel list per layer)"),
        Symbol("t_gap", "s", "idle time at one kernel boundary under CUDA graphs (measured)"),
        Symbol("T_gemm", "s", "measured time of one batch-1 GEMM"),
        Symbol("S_gemm", "B", "weight bytes of that GEMM"),
        Symbol("BW_ref", "B/s", "achievable HBM bandwidth of the GPU that GEMM was measured on"),
        Symbol("N_ar", "all-reduces", "all-reduces per decode step (two per layer under tensor parallelism)"),
        Symbol("t_ar", "s", "latency of one small all-reduce over the tensor-parallel group (measured NCCL/RCCL)"),
        Symbol("S_msg", "B", "bytes of one all-reduce: the hidden state of the step's tokens in 16 bits"),
        Symbol("BW_bus", "B/s", "all-reduce bus bandwidth of the interconnect (nccl-tests busbw, measured)"),
        Symbol("C_hbm", "B", "memory capacity per GPU on the chosen basis"),
        Symbol("L_layers", "layers", "transformer layers"),
        Symbol("H_kv", "heads", "key/value heads"),
        Symbol("d_head", "elements", "head dimension"),
        Symbol("r_kv", "elements", "MLA compressed KV latent rank"),
        Symbol("d_rope", "elements", "MLA decoupled RoPE key dimension"),
        Symbol("E_kv", "elements/token", "cached elements per token, all layers (sliding windows averaged)"),
        Symbol("b_kv", "B/element", "bytes per element of the KV-cache format"),
        Symbol("KV_token", "B/token", "KV-cache bytes per token, whole model"),
        Symbol("rep_kv", "×", "copies of each KV head across the tensor-parallel group"),
        Symbol("B_kv", "B", "KV-cache budget per GPU"),
        Symbol("H_headroom", "B", "memory per GPU held back from the KV cache beyond the runtime reserve"),
        Symbol("W_gpu", "B", "weight bytes per GPU (the weight shard, no reserve)"),
        Symbol(
            "f_mem",
            "fraction",
            "the serving engine's memory fraction (vLLM gpu_memory_utilization, SGLang mem_fraction_static: of "
            "total memory; TensorRT-LLM kv_cache_free_gpu_mem_fraction: of the memory free after the weights)",
        ),
        Symbol(
            "R_engine",
            "B",
            "memory per GPU the engine holds outside the KV cache besides the weights "
            "(activations, CUDA graphs, communication buffers)",
        ),
        Symbol("T_kv", "tokens", "tokens the KV cache holds across the tensor-parallel group"),
        Symbol("L_seq", "tokens", "average sequence length (prompt + generated) per request"),
        Symbol("F_peak", "FLOP/s", "dense peak FLOP/s of the compute format, per GPU"),
        Symbol("N_compute", "params", "parameters multiplied per token (2 FLOPs each)"),
        Symbol("I_decode", "FLOP/B", "arithmetic intensity of a batch-1 decode step"),
        Symbol("u_prefill", "fraction", "achieved fraction of peak FLOP/s in prefill"),
        Symbol("A_expert", "FLOP/token", "routed-expert matmul FLOPs per prompt token (2 per active expert parameter)"),
        Symbol("A_dense", "FLOP/token", "FLOPs per prompt token of every other linear layer but the lm_head"),
        Symbol("A_attn", "FLOP/token", "attention score and value FLOPs per prompt token over the causal prompt"),
        Symbol("A_lm_head", "FLOP", "lm_head FLOPs, once per prompt (the last token's logits)"),
        Symbol("F_expert", "FLOP/s", "dense peak FLOP/s of the format the expert matmuls run in"),
        Symbol("F_dense", "FLOP/s", "dense peak FLOP/s of the format the other linear layers run in"),
        Symbol("F_attn", "FLOP/s", "dense peak FLOP/s of the format attention runs in"),
        Symbol("F_lm_head", "FLOP/s", "dense peak FLOP/s of the format the lm_head runs in"),
        Symbol("P_prompt", "tokens", "prompt length the prefill ceiling is computed at"),
        Symbol("t_prefill", "s/token", "time per prompt token of the tensor-parallel group at peak"),
    )
}


def symbol(name: str) -> Symbol:
    return _SYMBOLS[name]


def _s(name: str) -> Any:
    return _SYMBOLS[name].sym


@attrs.frozen
class Formula:
    """One named expression: ``name = expr``, with the unit of its result."""

    name: str
    unit: str
    description: str
    expr: Any

    @property
    def args(self) -> tuple[str, ...]:
        return _free_args(self.expr)

    @property
    def text(self) -> str:
        return f"{self.name} = {to_text(self.expr)}"

    @property
    def latex(self) -> str:
        escaped = self.name.replace("_", r"\_")
        return rf"\mathrm{{{escaped}}} = {to_latex(self.expr)}"


def _build() -> dict[str, Formula]:
    """Every formula by name, in the order the generated module and the docs list them: a decode
    step's traffic and time, then the KV cache, then the roofline and prefill (one helper each,
    so each group's symbols read together)."""
    formulas = [*_decode_step_formulas(), *_kv_cache_formulas(), *_compute_formulas()]
    return {f.name: f for f in formulas}


def _decode_step_formulas() -> list[Formula]:
    """What one decode step reads, holds and waits for: weights streamed, all-reduces, kernels."""
    s = _s  # each symbol's sympy Symbol: building the expressions imports sympy
    streamed = (
        (s("N_linear") - s("N_expert")) * s("b_dense")
        + s("N_expert") * s("b_weights")
        + (s("N_lm_head") + s("s_embed") * s("N_embedding") + s("N_other")) * s("b_embed")
    )
    resident = (
        (s("N_linear_total") - s("N_expert_total")) * s("b_dense")
        + s("N_expert_total") * s("b_weights")
        + (s("N_embedding") + s("N_lm_head_stored") + s("N_other")) * s("b_embed")
    ) / s("tp") + s("R_reserve")
    stream = s("W_stream") / (s("tp") * s("BW_stream"))
    comm = s("N_ar") * (s("t_ar") + s("S_msg") * 2 * (s("tp") - 1) / (s("tp") * s("BW_bus")))
    return [
        Formula("streamed_bytes", "B", "bytes read from HBM per decode step at batch 1", streamed),
        Formula("resident_bytes", "B", "bytes resident per GPU before any KV cache", resident),
        Formula("weight_stream_s", "s", "time to stream the weights once at the achievable HBM bandwidth", stream),
        Formula("allreduce_s", "s", "tensor-parallel all-reduce time per decode step", comm),
        Formula(
            "gemm_fixed_s",
            "s",
            "fixed time of one batch-1 matmul: the measured GEMM less its bytes at the achievable bandwidth",
            s("T_gemm") - s("S_gemm") / s("BW_ref"),
        ),
        Formula(
            "kernel_overhead_s",
            "s",
            "fixed kernel time per decode step: each matmul's fill and drain, each other kernel's boundary",
            s("N_mm") * s("t_mm") + s("N_k") * s("t_gap"),
        ),
        Formula(
            "decode_floor_s",
            "s",
            "decode latency floor per token at batch 1: weights streamed, the all-reduces and the kernels' "
            "fixed times waited for",
            s("t_stream") + s("t_comm") + s("t_kernels"),
        ),
        Formula("per_user_ceiling_tok_s", "tok/s", "per-user decode ceiling at batch 1", 1 / s("t_floor")),
    ]


def _kv_cache_formulas() -> list[Formula]:
    """What the KV cache costs per token and how many tokens and requests the room left holds."""
    s = _s
    return [
        Formula(
            "kv_bytes_per_token_gqa",
            "B/token",
            "KV bytes per token, grouped-query attention",
            2 * s("L_layers") * s("H_kv") * s("d_head") * s("b_kv"),
        ),
        Formula(
            "kv_bytes_per_token_mla",
            "B/token",
            "KV bytes per token, multi-head latent attention",
            s("L_layers") * (s("r_kv") + s("d_rope")) * s("b_kv"),
        ),
        Formula(
            "kv_bytes_per_token_elements", "B/token", "KV bytes per token from cached elements", s("E_kv") * s("b_kv")
        ),
        Formula(
            "kv_room_physical",
            "B",
            "physical upper bound of the KV room per GPU: capacity less the resident bytes",
            s("C_hbm") - s("M_resident") - s("H_headroom"),
        ),
        Formula(
            "kv_room_total",
            "B",
            "KV room per GPU the engine leaves: its fraction of total memory less weights and runtime",
            s("f_mem") * s("C_hbm") - s("W_gpu") - s("R_engine") - s("H_headroom"),
        ),
        Formula(
            "kv_room_free",
            "B",
            "KV room per GPU the engine leaves: its fraction of the memory free after weights and runtime",
            s("f_mem") * (s("C_hbm") - s("W_gpu") - s("R_engine")) - s("H_headroom"),
        ),
        Formula(
            "kv_tokens",
            "tokens",
            "tokens the KV cache holds (whole tensor-parallel group)",
            s("tp") * s("B_kv") / (s("KV_token") * s("rep_kv")),
        ),
        Formula(
            "concurrency", "requests", "requests held in the KV cache at an average length", s("T_kv") / s("L_seq")
        ),
    ]


def _compute_formulas() -> list[Formula]:
    """Where decode sits on the roofline, and the prefill ceilings at peak FLOP/s."""
    s = _s
    return [
        Formula("ridge_flops_per_byte", "FLOP/B", "roofline ridge point", s("F_peak") / s("BW")),
        Formula(
            "decode_intensity", "FLOP/B", "batch-1 decode arithmetic intensity", 2 * s("N_compute") / s("W_stream")
        ),
        Formula(
            "decode_fraction_of_peak",
            "fraction",
            "fraction of peak FLOP/s used by batch-1 decode",
            s("I_decode") * s("BW") / s("F_peak"),
        ),
        Formula(
            "prefill_uniform_tok_s",
            "tok/s",
            "prefill ceiling of the tensor-parallel group with every multiplied parameter at one peak",
            s("u_prefill") * s("tp") * s("F_peak") / (2 * s("N_compute")),
        ),
        Formula(
            "prefill_s_per_token",
            "s/token",
            "prefill time per prompt token of the tensor-parallel group at peak: each matmul at its format's "
            "peak, attention over the causal prompt, the lm_head once per prompt",
            (
                s("A_expert") / s("F_expert")
                + s("A_dense") / s("F_dense")
                + s("A_attn") / s("F_attn")
                + s("A_lm_head") / (s("P_prompt") * s("F_lm_head"))
            )
            / s("tp"),
        ),
        Formula(
            "prefill_ceiling_tok_s",
            "tok/s",
            "prefill ceiling of the tensor-parallel group at a utilisation",
            s("u_prefill") / s("t_prefill"),
        ),
    ]


@functools.cache
def formulas() -> Mapping[str, Formula]:
    """Every formula as a sympy expression (imports sympy)."""
    return _build()


def formula(name: str) -> Formula:
    return formulas()[name]


@attrs.frozen
class CompiledFormula:
    """A formula compiled ahead of time: call it with keyword arguments (floats or numpy arrays)."""

    name: str
    unit: str
    description: str
    args: tuple[str, ...]
    text: str
    latex: str
    function: Callable[..., Any]

    def __call__(self, **values: Any) -> Any:
        missing = [a for a in self.args if a not in values]
        if missing:
            raise TypeError(f"{self.name} needs {', '.join(missing)}")
        result = self.function(*(values[a] for a in self.args))
        return result if isinstance(result, np.ndarray) else float(result)


@functools.cache
def compiled(name: str) -> CompiledFormula:
    """The generated numeric form of formula ``name`` (no sympy import)."""
    from blackwell_decide.bounds._compiled_formulas import FORMULAS

    unit, description, args, text, latex, function = FORMULAS[name]
    return CompiledFormula(name, unit, description, args, text, latex, function)


def compiled_names() -> tuple[str, ...]:
    """The names of the generated formulas, in definition order."""
    from blackwell_decide.bounds._compiled_formulas import FORMULAS

    return tuple(FORMULAS)


def lambdified(name: str) -> Callable[..., Any]:
    """Formula ``name`` lambdified by sympy now (positional arguments in ``Formula.args`` order):
    what the generated function was written from, for the generator and its test."""
    import sympy as sp

    f = formula(name)
    function: Callable[..., Any] = sp.lambdify([symbol(a).sym for a in f.args], f.expr, modules="numpy", cse=True)
    return function


def factorise_ratio(numerator: Any, denominator: Any, groups: Mapping[str, set[str]]) -> dict[str, Any]:
    """Split ``numerator / denominator`` into a product of terms, one per named group of symbols.

    sympy simplifies the ratio and splits it into factors; each factor goes to the group whose
    symbols it contains (a factor over symbols of several groups stays together under the names
    joined by ``×``). The product of the returned terms equals the ratio.
    """
    import sympy as sp

    ratio = sp.powsimp(sp.factor_terms(sp.simplify(numerator / denominator)))
    terms: dict[str, Any] = {}
    for factor in sp.Mul.make_args(ratio):
        names = {str(sym) for sym in factor.free_symbols}
        owners = [g for g, members in groups.items() if names & members] or ["constant"]
        key = " × ".join(owners)
        terms[key] = terms.get(key, sp.Integer(1)) * factor
    return terms


@functools.cache
def _free_args(expr: Any) -> tuple[str, ...]:
    """The names of an expression's free symbols, sorted (computed once per expression)."""
    return tuple(sorted(str(s) for s in expr.free_symbols))


# Printing a sympy expression costs milliseconds and every Bounds prints the same few dozen
# formulas: print each once (expressions are hashable and immutable).
@functools.cache
def to_text(expr: Any) -> str:
    import sympy as sp

    return str(sp.sstr(expr))


@functools.cache
def to_latex(expr: Any) -> str:
    import sympy as sp

    return str(sp.latex(expr))


def symbol_for(name: str, suffix: str) -> Any:
    """A suffixed copy of a catalog symbol (``BW_a``) for comparing two deployments."""
    import sympy as sp

    return sp.Symbol(f"{name}_{suffix}", positive=True)
