"""The decode-floor speed-up of one deployment over another, factorised into named terms whose
product is the ratio of the two floors."""

from __future__ import annotations

from typing import Any

from blackwell_decide.bounds.results import Bounds, Speedup, SpeedupTerm


def _stream_bandwidth(bounds: Bounds) -> float:
    """The bandwidth the weights streamed at in ``bounds`` (measured, or the spec)."""
    return next(i.value for i in bounds["weight_stream_s"].inputs if i.symbol == "BW_stream")


#: The symbols of the weight-streaming time whose ratio the speed-up factorises, and the group
#: each suffixed copy (``_a`` baseline, ``_b`` candidate) belongs to.
_GROUPS = {
    "bandwidth": {"BW_stream_a", "BW_stream_b"},
    "footprint": {"W_stream_a", "W_stream_b"},
    "parallelism": {"tp_a", "tp_b"},
}


def symbolic_speedup() -> tuple[dict[str, Any], Any]:
    """The ratio of the baseline's weight-streaming time to the candidate's, factorised by sympy
    into one term per group, and the simplified ratio itself (imports sympy): what the generated
    module's ``SPEEDUP_TERMS`` and ``SPEEDUP_TOTAL`` are written from."""
    import sympy as sp

    from blackwell_decide.bounds import formulas as f

    floor = f.formula("weight_stream_s").expr
    names = ("W_stream", "tp", "BW_stream")

    def suffixed(tag: str) -> Any:
        return floor.subs({f.symbol(n).sym: f.symbol_for(n, tag) for n in names})

    terms = f.factorise_ratio(suffixed("a"), suffixed("b"), _GROUPS)
    return terms, sp.simplify(suffixed("a") / suffixed("b"))


def evaluate_product(product: tuple[tuple[str, int], ...], values: dict[str, float]) -> float:
    """A generated product of symbols (each to the power 1 or -1) at ``values``, multiplied in
    the order given, a reciprocal taken before it is multiplied in: the float operations sympy's
    ``subs`` performed when the speed-up was evaluated symbolically, so the value is the same to
    the last bit (tests/test_compiled_formulas.py checks it on random inputs)."""
    value = 1.0
    for name, power in product:
        value = value * values[name] if power == 1 else value * (1.0 / values[name])
    return value


def speedup(baseline: Bounds, candidate: Bounds) -> Speedup:
    """The candidate's decode-floor speed-up over the baseline, factorised (by sympy, ahead of
    time: bounds/_compiled_formulas.py) into a bandwidth term, a footprint (streamed bytes) term
    and, where they differ, a parallelism term (all three of the weight-streaming time); then,
    where either floor has them, a communication term ((1 + t_comm/t_stream) of the baseline over
    that of the candidate) and a kernels term ((1 + t_kernels/(t_stream + t_comm)), likewise):
    their product is the ratio of the two decode floors."""
    from blackwell_decide.bounds._compiled_formulas import SPEEDUP_TERMS, SPEEDUP_TOTAL

    values: dict[str, float] = {}
    for tag, bounds in (("a", baseline), ("b", candidate)):
        values[f"W_stream_{tag}"] = bounds.value("streamed_bytes")
        values[f"tp_{tag}"] = float(bounds.deployment.tp)
        values[f"BW_stream_{tag}"] = _stream_bandwidth(bounds)

    speedup_terms = []
    for name, text, tex, product in SPEEDUP_TERMS:
        term_value = evaluate_product(product, values)
        if not (name == "parallelism" and term_value == 1.0):
            speedup_terms.append(SpeedupTerm(name=name, value=term_value, formula=text, latex=tex))
    total_text, total_tex, total_product = SPEEDUP_TOTAL
    value = evaluate_product(total_product, values)
    formula, latex = f"speedup = {total_text}", total_tex
    parts = {
        tag: (b.value("weight_stream_s"), b.value("allreduce_s"), b.value("kernel_overhead_s"))
        for tag, b in (("a", baseline), ("b", candidate))
    }
    extra = [
        (
            "communication",
            any(c for _, c, _ in parts.values()),
            {tag: 1.0 + c / s for tag, (s, c, _) in parts.items()},
            "(1 + t_comm_a/t_stream_a)/(1 + t_comm_b/t_stream_b)",
            r"\frac{1 + t_{comm,a}/t_{stream,a}}{1 + t_{comm,b}/t_{stream,b}}",
        ),
        (
            "kernels",
            any(k for _, _, k in parts.values()),
            {tag: 1.0 + k / (s + c) for tag, (s, c, k) in parts.items()},
            "(1 + t_kernels_a/(t_stream_a + t_comm_a))/(1 + t_kernels_b/(t_stream_b + t_comm_b))",
            r"\frac{1 + t_{kernels,a}/(t_{stream,a} + t_{comm,a})}{1 + t_{kernels,b}/(t_{stream,b} + t_{comm,b})}",
        ),
    ]
    for name, present, share, text, tex in extra:
        if not present:
            continue
        factor = share["a"] / share["b"]
        speedup_terms.append(SpeedupTerm(name=name, value=factor, formula=text, latex=tex))
        value *= factor
        formula = f"{formula} * {text}"
        latex = rf"{latex} \cdot {tex}"
    return Speedup(
        baseline=baseline,
        candidate=candidate,
        value=value,
        formula=formula,
        latex=latex,
        terms=tuple(speedup_terms),
    )
