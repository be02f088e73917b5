"""Consistency of a result's own figures: the output rate it reports against the tokens it
counted over the time it ran."""

from __future__ import annotations

from pathlib import Path

from blackwell_decide.errors import UsageError

#: vLLM and SGLang both write output_throughput as total_output_tokens ÷ duration; beyond rounding
#: a gap is a hand-edited or corrupt file, whose rate would be audited against the ceiling unseen.
RATE_TOLERANCE = 0.05


def check_output_rate(path: Path | str, reported: float, total_output_tokens: float, duration_s: float | None) -> None:
    """Raise when ``output_throughput`` disagrees with ``total_output_tokens ÷ duration``."""
    if duration_s is None or duration_s <= 0 or total_output_tokens <= 0:
        return
    implied = total_output_tokens / duration_s
    if abs(reported - implied) > RATE_TOLERANCE * implied:
        raise UsageError(
            f"{path}: 'output_throughput' is {reported:,.6g} tok/s but total_output_tokens ÷ duration is "
            f"{total_output_tokens:,.0f} ÷ {duration_s:,.6g} s = {implied:,.6g} tok/s (the benchmark writes one as "
            "the other); the file was edited or is corrupt: rerun the benchmark or restore its figures"
        )
