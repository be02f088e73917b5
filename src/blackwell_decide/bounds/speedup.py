"""The decode-floor speed-up of one deployment over another, factorised into named terms whose
product is the ratio of the two floors."""

from __future__ import annotations

from typing import Any

from blackwell_decide.bounds.results import Bounds, Speedup, SpeedupTerm


def _stream_bandwidth(bounds: Bounds) -> float:
    """The bandwidth the weights streamed at in ``bounds`` (measured, or the spec)."""
    return next(i.value for i in bounds["weight_stream_s"].inputs if i.symbol == "BW_stream")


def speedup(baseline: Bounds, candidate: Bounds) -> Speedup:
    """The candidate's decode-floor speed-up over the baseline, factorised by sympy into a
    bandwidth term, a footprint (streamed bytes) term and, where they differ, a parallelism term
    (all three of the weight-streaming time); then, where either floor has them, a communication
    term ((1 + t_comm/t_stream) of the baseline over that of the candidate) and a kernels term
    ((1 + t_kernels/(t_stream + t_comm)), likewise): their product is the ratio of the two
    decode floors."""
    import sympy as sp

    from blackwell_decide.bounds import formulas as f

    floor = f.formula("weight_stream_s").expr
    names = ("W_stream", "tp", "BW_stream")

    def suffixed(tag: str) -> Any:
        return floor.subs({f.symbol(n).sym: f.symbol_for(n, tag) for n in names})

    groups = {
        "bandwidth": {"BW_stream_a", "BW_stream_b"},
        "footprint": {"W_stream_a", "W_stream_b"},
        "parallelism": {"tp_a", "tp_b"},
    }
    terms = f.factorise_ratio(suffixed("a"), suffixed("b"), groups)
    values: dict[str, float] = {}
    for tag, bounds in (("a", baseline), ("b", candidate)):
        values[f"W_stream_{tag}"] = bounds.value("streamed_bytes")
        values[f"tp_{tag}"] = float(bounds.deployment.tp)
        values[f"BW_stream_{tag}"] = _stream_bandwidth(bounds)

    def evaluate(expr: Any) -> float:
        return float(expr.subs({f.symbol_for(k.rsplit("_", 1)[0], k.rsplit("_", 1)[1]): v for k, v in values.items()}))

    total_expr = sp.simplify(suffixed("a") / suffixed("b"))
    speedup_terms = [
        SpeedupTerm(name=name, value=evaluate(expr), formula=f.to_text(expr), latex=f.to_latex(expr))
        for name, expr in terms.items()
        if not (name == "parallelism" and evaluate(expr) == 1.0)
    ]
    value = evaluate(total_expr)
    formula, latex = f"speedup = {f.to_text(total_expr)}", f.to_latex(total_expr)
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
