"""All-in provisioned power per GPU: board power × (1 + server overhead) × PUE.

The defaults come from the shipped data file ``builtin/data/power.toml``: the server overhead of
each GPU's reference system (its maximum system power over its GPUs' board power) and an
industry-average PUE from a cited survey. A scenario's ``[facility]`` overrides either. A GPU
with no reference system borrows the median overhead of those that have one, and says so.
"""

from __future__ import annotations

import functools
import statistics
import tomllib
from typing import Any

import attrs

from blackwell_decide.builtin._data import data_file
from blackwell_decide.model import Source, SourceKind

__all__ = ["PowerBasis", "default_power_basis"]


@attrs.frozen
class PowerBasis:
    """How one GPU's board power becomes provisioned power, and where each factor comes from."""

    server_overhead: float = attrs.field(validator=attrs.validators.ge(0.0))
    pue: float = attrs.field(validator=attrs.validators.ge(1.0))
    overhead_source: Source | None
    pue_source: Source | None
    note: str = ""

    def provisioned_watts(self, board_watts: float) -> float:
        return board_watts * (1.0 + self.server_overhead) * self.pue

    @property
    def words(self) -> str:
        return f"board power × (1 + {self.server_overhead:.2f} server overhead) × PUE {self.pue:.2f}"


@functools.cache
def _data() -> dict[str, Any]:
    text = data_file("power.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _source(url: str, date: str, title: str, note: str = "") -> Source:
    return Source(url=url, date=date, kind=SourceKind.DATASHEET, title=title, note=note)


def default_power_basis(accelerator: str) -> PowerBasis:
    """The shipped server overhead for ``accelerator`` (a catalog key) and the survey PUE."""
    data = _data()
    pue = data["pue"]
    pue_source = Source(url=pue["source"], date=pue["date"], kind=SourceKind.SECONDARY, title=pue["title"])
    systems = data["systems"]

    def overhead(row: dict[str, Any]) -> float:
        return max(float(row["system_max_kw"]) * 1000.0 / (float(row["gpus"]) * float(row["gpu_tdp_w"])) - 1.0, 0.0)

    mine = next((row for row in systems if row["accelerator"] == accelerator), None)
    if mine is not None:
        value = overhead(mine)
        src = _source(
            mine["source"],
            mine["date"],
            f"{mine['system']} system power",
            f"{mine['system_max_kw']:g} kW max for {mine['gpus']} GPUs of {mine['gpu_tdp_w']:g} W: "
            f"overhead {value:.2f}",
        )
        return PowerBasis(value, float(pue["value"]), src, pue_source)
    # No reference system: the median overhead of the systems that have one.
    values = [overhead(row) for row in systems]
    value = statistics.median(values)
    note = (
        f"no reference system power is shipped for {accelerator}: the median server overhead of "
        f"{', '.join(row['system'] for row in systems)} ({value:.2f}) is used"
    )
    src = Source(
        url="blackwell_decide power.toml", date="n.d.", kind=SourceKind.DERIVED, title="median overhead", note=note
    )
    return PowerBasis(value, float(pue["value"]), src, pue_source, note)
