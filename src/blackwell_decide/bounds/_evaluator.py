"""The evaluator that runs the compiled formulas for one deployment and records each derivation
(value, formula, inputs and their sources): shared by the modules that record the bounds."""

from __future__ import annotations

from collections.abc import Mapping

from blackwell_decide.bounds.results import Derived, Input
from blackwell_decide.model import DERIVED, Source

#: An input of a formula: its value, its source and the derivation it came from (if any).
Value = tuple[float, Source | None, str | None]


def first_source(sources: Mapping[str, Source], *fields: str) -> Source | None:
    for field in fields:
        if field in sources:
            return sources[field]
    return next(iter(sources.values()), None)


class Evaluator:
    """Evaluates formulas for one deployment, recording every derivation."""

    def __init__(self) -> None:
        from blackwell_decide.bounds import formulas

        self._f = formulas
        self.derivations: dict[str, Derived] = {}

    def run(
        self,
        formula_name: str,
        inputs: dict[str, Value],
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> float:
        """Evaluate ``formula_name`` with ``inputs`` (symbol -> (value, source, derived-from))."""
        f = self._f.compiled(formula_name)
        values = {k: v[0] for k, v in inputs.items()}
        result = float(f(**{a: values[a] for a in f.args}))
        record_name = name or formula_name
        self.derivations[record_name] = Derived(
            name=record_name,
            description=description or f.description,
            value=result,
            unit=f.unit,
            formula=f.text,
            latex=f.latex,
            inputs=tuple(
                Input(
                    symbol=a,
                    description=self._f.symbol(a).description,
                    value=values[a],
                    unit=self._f.symbol(a).unit,
                    source=inputs[a][1],
                    derived_from=inputs[a][2],
                )
                for a in f.args
            ),
        )
        return result

    def ref(self, name: str) -> Value:
        """A previous result as an input of a later formula."""
        return (self.derivations[name].value, DERIVED, name)
