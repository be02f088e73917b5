"""Unit constants. Everything inside the library is SI (bytes, seconds, FLOP/s, W, USD);
conversion happens only at the edges (data files, CLI, memos), through these names."""

from __future__ import annotations

from typing import Final

KB: Final = 1e3
MB: Final = 1e6
GB: Final = 1e9
TB: Final = 1e12
KiB: Final = 1024.0
MiB: Final = 1024.0**2
GiB: Final = 1024.0**3

TERA: Final = 1e12
PETA: Final = 1e15

MS: Final = 1e-3
HOURS_PER_MONTH: Final = 730.0
SECONDS_PER_HOUR: Final = 3600.0
PER_MILLION: Final = 1e6
MW: Final = 1e6
