"""The one set of number validators: finite, and within a stated physical range.

Every value class checks its numbers where it is built, with these attrs validators; readers and
functions that take bare numbers call :func:`check_number`. A failure is an
:class:`~blackwell_decide.errors.OutOfRangeError` naming the input, its value, the range and the
fix. The ranges are physical limits wide enough for any accelerator, model or workload this tool
could meet (hundreds of times today's largest), so only a typo, a unit slip or a corrupt file
falls outside them; they also keep every product of two inputs far from float overflow.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

import attrs

from blackwell_decide.errors import OutOfRangeError
from blackwell_decide.input_schema import shown

# Physical limits, in SI units. Each is far above anything shipped (2026: ~8 TB/s HBM, ~20 PFLOP/s
# dense FP4, 288 GB per GPU, 1.4 kW) and far below what makes later arithmetic overflow.
MAX_BYTES: Final = 1e15  # memory of one GPU or one model's weights: 1 PB
MAX_BANDWIDTH: Final = 1e15  # bytes/s: 1 PB/s per GPU
MAX_FLOPS: Final = 1e19  # FLOP/s per GPU: 10 EFLOP/s
MAX_WATTS: Final = 1e6  # one GPU: 1 MW
MAX_USD_PER_GPU_HOUR: Final = 1e5
MAX_USD: Final = 1e15  # a one-time or monthly amount
MAX_TOK_S: Final = 1e12  # tokens per second (per GPU or a fleet's traffic)
MIN_TOK_S: Final = 1e-3  # one token in ~17 minutes: below it a throughput is a unit slip
MAX_REQUESTS_PER_S: Final = 1e9
MIN_REQUESTS_PER_S: Final = 1e-6  # one request in ~11.6 days; below it, sizing a fleet means nothing
MAX_TOKENS: Final = 1e9  # tokens in one request (prompt or output)
MAX_GPUS: Final = 10**7  # GPUs in one fleet or tensor-parallel group
MAX_LAYERS: Final = 10_000  # decoder layers (2026's deepest: ~128); code loops over layers
MAX_COUNT: Final = 10**7  # layers, heads, experts, hidden width, vocabulary: a bound on every loop
MAX_SECONDS: Final = 1e6
# Lower limits on the figures that divide: a smaller value is a unit slip (MB for TB) and would
# print an infinite or absurd time or fraction.
MIN_BYTES: Final = 1e6
MIN_BANDWIDTH: Final = 1e6
MIN_FLOPS: Final = 1e6
MIN_WATTS: Final = 1e-3


def _range_words(low: float, high: float, low_open: bool) -> str:
    if low == 0 and low_open:
        return f"a positive number up to {high:g}"
    if low == 0:
        return f"zero or a positive number up to {high:g}"
    sign = "positive " if low > 0 else ""
    return f"a {sign}number from {low:g} to {high:g}" if not low_open else f"a number above {low:g}, up to {high:g}"


def check_number(
    name: str,
    value: object,
    *,
    low: float = 0.0,
    high: float,
    low_open: bool = False,
    unit: str = "",
    fix: str = "",
) -> float:
    """``value`` as a float when it is a finite number in ``[low, high]`` (``(low, high]`` with
    ``low_open``); otherwise an :class:`OutOfRangeError` naming ``name``, the value and the range."""
    number: float | None
    if isinstance(value, bool) or not isinstance(value, int | float):
        number = None
    else:
        try:
            number = float(value)
        except OverflowError:  # an int with hundreds of digits
            number = math.inf
    if number is None or not math.isfinite(number) or number > high or number < low or (low_open and number == low):
        units = f" {unit}" if unit else ""
        tail = f"; {fix}" if fix else ""
        raise OutOfRangeError(f"{name} must be {_range_words(low, high, low_open)}{units}, got {shown(value)}{tail}")
    return number


def _label(instance: object, attribute: attrs.Attribute[Any], name: str = "") -> str:
    key = getattr(instance, "key", None)
    owner = type(instance).__name__
    field = name or attribute.name.replace("_", " ")
    return f"{owner} {key!r}: {field}" if isinstance(key, str) and key else f"{owner} {field}"


Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def in_range(
    *,
    low: float = 0.0,
    high: float,
    low_open: bool = False,
    unit: str = "",
    fix: str = "",
    optional: bool = False,
    name: str = "",
) -> Validator:
    """An attrs validator: a finite number in the range (None allowed with ``optional``); ``name``
    words the field in messages (default: the attribute's name)."""

    def validate(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if optional and value is None:
            return
        check_number(
            _label(instance, attribute, name), value, low=low, high=high, low_open=low_open, unit=unit, fix=fix
        )

    return validate


def positive(high: float, *, unit: str = "", fix: str = "", optional: bool = False, name: str = "") -> Validator:
    """A finite number in ``(0, high]``."""
    return in_range(high=high, low_open=True, unit=unit, fix=fix, optional=optional, name=name)


def non_negative(high: float, *, unit: str = "", fix: str = "", optional: bool = False, name: str = "") -> Validator:
    """A finite number in ``[0, high]``."""
    return in_range(high=high, unit=unit, fix=fix, optional=optional, name=name)


def whole(low: int = 1, high: int = MAX_COUNT, *, fix: str = "", optional: bool = False) -> Validator:
    """A whole number (not a bool) in ``[low, high]``."""

    def validate(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if optional and value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            tail = f"; {fix}" if fix else ""
            label = _label(instance, attribute)
            raise OutOfRangeError(f"{label} must be a whole number from {low} to {high}, got {shown(value)}{tail}")

    return validate
