"""How numbers read to people: money, ratios, shares, months and changes.

The one formatting module of the rules' sentences, the CLI and the memo templates. Every
function returns "–" for a missing or non-finite value, so no ``nan`` or ``inf`` reaches a
reader. Ratios read the way a person reads them: "2.40× cheaper" or "2.40× dearer", never
"0.42× cheaper"; a change "rises" or "falls" with the sign of the numbers.
"""

from __future__ import annotations

import math

__all__ = [
    "change_words",
    "cheaper_or_dearer",
    "compared_with",
    "finite_or_none",
    "months_words",
    "num",
    "pct",
    "signed_usd",
    "times",
    "usd",
]

MINUS = "\N{MINUS SIGN}"
DASH = "–"
#: Days per month used to state short paybacks in days (365 / 12).
DAYS_PER_MONTH = 365.0 / 12.0
#: Paybacks longer than this read as "never" (a century of savings is no payback).
NEVER_MONTHS = 1200.0


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def finite_or_none(value: float | None) -> float | None:
    """A number for strict JSON: None where it is missing or not finite."""
    return value if value is not None and math.isfinite(value) else None


def usd(value: float | None, digits: int = 0) -> str:
    """Money: ``$1,234``; a negative amount ``−$548`` (a minus sign, not a hyphen)."""
    if value is None or not math.isfinite(value):
        return DASH
    text = f"${abs(value):,.{digits}f}"
    return f"{MINUS}{text}" if value < 0 and text.strip("$0.,") else text


def signed_usd(value: float | None, digits: int = 0) -> str:
    """Money with its sign always shown: ``+$1,234`` / ``−$548``."""
    if value is None or not math.isfinite(value):
        return DASH
    text = usd(value, digits)
    return text if text.startswith(MINUS) or not text.strip("$0.,") else f"+{text}"


def num(value: float | None, digits: int = 0) -> str:
    if value is None or not math.isfinite(value):
        return DASH
    text = f"{abs(value):,.{digits}f}"
    return f"{MINUS}{text}" if value < 0 and text.strip("0.,") else text


def pct(value: float | None, digits: int = 0) -> str:
    """A share as a percentage (0.15 → ``15 %``)."""
    if value is None or not math.isfinite(value):
        return DASH
    text = f"{abs(value) * 100:.{digits}f} %"
    return f"{MINUS}{text}" if value < 0 and text.strip("0. %") else text


def times(value: float | None, digits: int = 2) -> str:
    """A plain factor: ``2.31×``."""
    if value is None or not math.isfinite(value):
        return DASH
    return f"{value:.{digits}f}×"


def cheaper_or_dearer(ratio: float | None, digits: int = 2) -> str:
    """``ratio`` = baseline cost ÷ option cost, in words: above 1 the option is cheaper
    ("2.40× cheaper"), below 1 dearer ("2.40× dearer", never "0.42× cheaper")."""
    if ratio is None or not math.isfinite(ratio) or ratio <= 0:
        return DASH
    if math.isclose(ratio, 1.0, rel_tol=0.5 * 10.0**-digits):
        return "the same cost"
    if ratio > 1:
        return f"{ratio:.{digits}f}× cheaper"
    return f"{1.0 / ratio:.{digits}f}× dearer"


def compared_with(ratio: float | None, what: str, digits: int = 2) -> str:
    """``ratio`` (baseline cost ÷ option cost) against ``what``, as a phrase: "2.40× cheaper than
    today", "about the same cost as today"."""
    words = cheaper_or_dearer(ratio, digits)
    if words == "the same cost":
        return f"about the same cost as {what}"
    if words == DASH:
        return f"against {what}"
    return f"{words} than {what}"


def change_words(before: float, after: float, unit: str = "", digits: int = 2) -> str:
    """How a quantity moves, with the verb that agrees with the numbers:
    "rises from 3.67 to 5.27 ms (1.44×)" or "falls from 21.06 to 5.27 ms (4.00× lower)"."""
    if not (_finite(before) and _finite(after)):
        return DASH
    suffix = f" {unit}" if unit else ""
    span = f"from {before:,.{digits}f} to {after:,.{digits}f}{suffix}"
    if math.isclose(before, after, rel_tol=1e-9):
        return f"stays at {after:,.{digits}f}{suffix}"
    if before > 0 and after > 0:
        factor = after / before if after > before else before / after
        return (
            f"{'rises' if after > before else 'falls'} {span} ({factor:.2f}× {'higher' if after > before else 'lower'})"
        )
    return f"{'rises' if after > before else 'falls'} {span}"


def months_words(months: float | None) -> str:
    """A payback period: "12 days", "4.4 months", or "never" (no saving, or over a century)."""
    if months is None or not math.isfinite(months) or months < 0 or months > NEVER_MONTHS:
        return "never"
    if months < 1:
        return f"{months * DAYS_PER_MONTH:.0f} days"
    return f"{months:.1f} months"
