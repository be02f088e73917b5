"""The checked-in ``_compiled_formulas.py`` is what the generator writes from formulas.py today,
and each of its functions computes what sympy's lambdify of the formula computes."""

from __future__ import annotations

import numpy as np
import pytest

from blackwell_decide.bounds import _generate, formulas


def test_the_checked_in_module_is_what_the_generator_writes() -> None:
    # A formula edited without regenerating fails here: run python -m blackwell_decide.bounds._generate.
    assert _generate.TARGET.read_text(encoding="utf-8") == _generate.render()
    assert _generate.main(["--check"]) == 0


def test_every_formula_is_compiled_with_its_own_metadata() -> None:
    assert formulas.compiled_names() == tuple(formulas.formulas())
    for name, f in formulas.formulas().items():
        c = formulas.compiled(name)
        assert (c.name, c.unit, c.description, c.args) == (f.name, f.unit, f.description, f.args)
        assert (c.text, c.latex) == (f.text, f.latex)


@pytest.mark.parametrize("name", list(formulas.formulas()))
def test_each_compiled_function_equals_the_lambdified_one(name: str) -> None:
    """On 200 random positive inputs spanning twelve decades (rel 1e-12; in practice the same
    floats, since the body is lambdify's own source), as floats and as one array."""
    rng = np.random.default_rng(sum(map(ord, name)))
    compiled = formulas.compiled(name)
    lambdified = formulas.lambdified(name)
    columns = [10.0 ** rng.uniform(-6.0, 6.0, 200) for _ in compiled.args]
    expected = np.asarray(lambdified(*columns), dtype=float) * np.ones(200)
    got = compiled(**dict(zip(compiled.args, columns, strict=True)))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0.0)
    for i in range(0, 200, 40):
        scalar = compiled(**{a: float(col[i]) for a, col in zip(compiled.args, columns, strict=True)})
        assert isinstance(scalar, float)
        assert scalar == pytest.approx(float(lambdified(*(float(col[i]) for col in columns))), rel=1e-12)


def test_the_speedup_factors_are_sympys_and_evaluate_to_sympys_floats_bit_for_bit() -> None:
    """The generated speed-up terms print as sympy's factorisation prints, and their products give
    the very float sympy's ``subs`` gave (exact equality, 2,000 random deployments pairs: 10^9 to
    10^13 bytes and bytes/s, TP 1 to 8), so compare's and the memo's figures did not move."""
    import sympy as sp

    from blackwell_decide.bounds._compiled_formulas import SPEEDUP_TERMS, SPEEDUP_TOTAL
    from blackwell_decide.bounds.speedup import evaluate_product, symbolic_speedup

    terms, total = symbolic_speedup()
    assert [(n, t, x) for n, t, x, _ in SPEEDUP_TERMS] == [
        (n, formulas.to_text(e), formulas.to_latex(e)) for n, e in terms.items()
    ]
    assert SPEEDUP_TOTAL[:2] == (formulas.to_text(total), formulas.to_latex(total))
    rng = np.random.default_rng(10)
    names = sorted(str(s) for s in total.free_symbols)
    assert names == ["BW_stream_a", "BW_stream_b", "W_stream_a", "W_stream_b", "tp_a", "tp_b"]
    for _ in range(2000):
        values = {
            n: float(rng.choice([1, 2, 3, 4, 8])) if n.startswith("tp") else 10 ** rng.uniform(9, 13) for n in names
        }
        subs = {sp.Symbol(n, positive=True): v for n, v in values.items()}
        for (_, _, _, product), expr in zip(SPEEDUP_TERMS, terms.values(), strict=True):
            assert evaluate_product(product, values) == float(expr.subs(subs))
        assert evaluate_product(SPEEDUP_TOTAL[2], values) == float(total.subs(subs))


def test_a_missing_argument_is_named() -> None:
    with pytest.raises(TypeError, match="weight_stream_s needs tp"):
        formulas.compiled("weight_stream_s")(W_stream=1.0, BW_stream=1.0)


def test_a_formula_needing_a_numpy_function_is_refused_by_the_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    """The generated module imports no numpy functions, so the generator must refuse one (here a
    square root) rather than write a function that fails at run time."""
    import sympy as sp

    x = formulas.symbol("t_floor").sym
    fake = formulas.Formula("root", "s", "a root", sp.sqrt(x))
    monkeypatch.setattr(formulas, "formulas", lambda: {"root": fake})
    with pytest.raises(ValueError, match=r"formula root needs \['sqrt'\]"):
        _generate.render()
