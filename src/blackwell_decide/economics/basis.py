"""Token bases and per-GPU throughput stated on one of them.

A throughput figure is meaningless for costing until it says which tokens it counts: benchmark
dashboards often plot input + output tokens per second, while a chat product bills (and sizes)
by generated tokens. Every throughput here carries its basis, and converting it to another basis
needs the workload's input and output lengths.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs

from blackwell_decide.bounds.results import Derived, Input
from blackwell_decide.errors import UsageError
from blackwell_decide.model import USER_INPUT, Source
from blackwell_decide.model import validators as v


class TokenBasis(enum.Enum):
    """Which tokens a rate or a price counts."""

    INPUT = "input"  # prompt tokens (prefill)
    OUTPUT = "output"  # generated tokens (decode)
    TOTAL = "total"  # input + output

    @classmethod
    def parse(cls, text: str | TokenBasis, *, what: str = "token basis") -> TokenBasis:
        if isinstance(text, TokenBasis):
            return text
        try:
            return cls(text.strip().lower())
        except ValueError:
            known = ", ".join(b.value for b in cls)
            raise UsageError(f"unknown {what} {text!r}: use one of {known}") from None


def _to_basis(value: str | TokenBasis) -> TokenBasis:
    return TokenBasis.parse(value)


@attrs.frozen
class Throughput:
    """Tokens per second per GPU on a stated basis, for a workload of ``isl`` input and ``osl``
    output tokens per request (needed only to convert between bases)."""

    tok_s_per_gpu: float = attrs.field(
        validator=v.in_range(
            low=v.MIN_TOK_S,
            high=v.MAX_TOK_S,
            unit="tok/s per GPU",
            fix="check the throughput's units",
            name="throughput per GPU",
        )
    )
    basis: TokenBasis = attrs.field(converter=_to_basis)
    isl: float | None = attrs.field(default=None, validator=v.positive(v.MAX_TOKENS, unit="tokens", optional=True))
    osl: float | None = attrs.field(default=None, validator=v.positive(v.MAX_TOKENS, unit="tokens", optional=True))
    source: Source = USER_INPUT
    note: str = ""

    def tokens_per_request(self, basis: TokenBasis) -> float:
        if self.isl is None or self.osl is None:
            raise UsageError(
                f"converting {self.tok_s_per_gpu:,.0f} tok/s on the {self.basis.value} basis to {basis.value} "
                "tokens needs the workload's input and output lengths: pass --isl and --osl"
            )
        return {TokenBasis.INPUT: self.isl, TokenBasis.OUTPUT: self.osl, TokenBasis.TOTAL: self.isl + self.osl}[basis]

    def share(self, basis: TokenBasis) -> float:
        """Tokens of ``basis`` per token of this throughput's own basis."""
        if basis is self.basis:
            return 1.0
        return self.tokens_per_request(basis) / self.tokens_per_request(self.basis)

    def on_basis(self, basis: TokenBasis | str) -> Throughput:
        basis = TokenBasis.parse(basis)
        if basis is self.basis:
            return self
        return attrs.evolve(
            self,
            tok_s_per_gpu=self.tok_s_per_gpu * self.share(basis),
            basis=basis,
            note=(self.note + "; " if self.note else "")
            + f"converted from {self.tok_s_per_gpu:,.0f} {self.basis.value} tok/s at {self.isl:g}/{self.osl:g} "
            "input/output tokens per request",
        )

    def as_input(self, description: str = "throughput per GPU") -> Input:
        return Input(
            symbol="X",
            description=f"{description} ({self.basis.value} tokens)",
            value=self.tok_s_per_gpu,
            unit="tok/s/GPU",
            source=self.source,
        )


def derived(
    name: str,
    description: str,
    value: float,
    unit: str,
    formula: str,
    inputs: Iterable[Input],
    latex: str = "",
) -> Derived:
    """A :class:`Derived` for an economics result (plain-text formula; LaTeX where given)."""
    return Derived(
        name=name,
        description=description,
        value=float(value),
        unit=unit,
        formula=formula,
        latex=latex or formula,
        inputs=tuple(inputs),
    )
