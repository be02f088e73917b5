"""Calendar dates as they arrive from TOML files and the command line."""

from __future__ import annotations

import datetime as dt


def as_date(value: object) -> dt.date | None:
    """``value`` as a calendar day: a TOML date or datetime, or an ISO ``YYYY-MM-DD`` string.
    None when it is none of these, so each caller can word its own error."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None
