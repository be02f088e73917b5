"""Built-in number formats (BF16, FP16, FP8, NVFP4, MXFP4, MXFP6, INT8, INT4-AWQ), read from
``data/formats.toml`` with the public loader."""

from __future__ import annotations

from typing import TYPE_CHECKING

from blackwell_decide import hookimpl, load_number_formats
from blackwell_decide.builtin._data import data_file

if TYPE_CHECKING:
    from blackwell_decide import NumberFormat, Registry


@hookimpl
def register_number_formats(registry: Registry[NumberFormat]) -> None:
    for number_format in load_number_formats(data_file("formats.toml")):
        registry.add(number_format)
