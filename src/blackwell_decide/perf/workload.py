"""The traffic shape a prediction is for."""

from __future__ import annotations

import attrs

from blackwell_decide.errors import UsageError


def _positive_length(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(
            f"{attribute.name} must be a positive whole number of tokens, got {value!r} "
            f"(pass --{attribute.name} N with N >= 1)"
        )


@attrs.frozen
class Workload:
    """Mean input (prompt) and output (generated) tokens per request."""

    isl: int = attrs.field(validator=_positive_length)
    osl: int = attrs.field(validator=_positive_length)

    @property
    def decode_context(self) -> float:
        """Mean context a decoding request attends to: the prompt plus half its output."""
        return self.isl + self.osl / 2.0

    @property
    def prefill_per_output(self) -> float:
        """Prompt tokens processed per generated token: each output token's share of prefill."""
        return self.isl / self.osl

    @property
    def label(self) -> str:
        return f"{self.isl}/{self.osl}"
