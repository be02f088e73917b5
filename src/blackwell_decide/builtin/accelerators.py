"""Built-in accelerator catalog: NVIDIA and AMD data-center GPUs, read from the sourced TOML
files in ``data/accelerators`` with the public loader, as a third-party plugin would."""

from __future__ import annotations

from typing import TYPE_CHECKING

from blackwell_decide import hookimpl, load_accelerators
from blackwell_decide.builtin._data import data_files

if TYPE_CHECKING:
    from blackwell_decide import Accelerator, Registry


@hookimpl
def register_accelerators(registry: Registry[Accelerator]) -> None:
    for path in data_files("accelerators"):
        for accelerator in load_accelerators(path):
            registry.add(accelerator)
