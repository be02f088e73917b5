"""Intel Gaudi 3 for blackwell_decide: a third-party accelerator pack.

Installed, it is found through the ``blackwell_decide`` entry-point group and adds ``gaudi-3``
(the HL-325L OAM module) to the catalog, with the source of every figure. The figures live in
``gaudi3.toml`` beside this module, in the catalog data-file format that
:func:`blackwell_decide.catalog_files.load_accelerators` reads, exactly as the built-in NVIDIA and
AMD catalogs are.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from blackwell_decide import Accelerator, Registry, hookimpl, load_accelerators

__version__ = "0.1.0"

DATA_FILE = "gaudi3.toml"


def data_file() -> Traversable:
    """The packaged catalog file (works from a checkout, an editable install or a wheel)."""
    return resources.files(__name__).joinpath(DATA_FILE)


def accelerators() -> list[Accelerator]:
    """The accelerators this pack adds, as :class:`~blackwell_decide.model.Accelerator` values."""
    return load_accelerators(data_file())


@hookimpl
def register_accelerators(registry: Registry[Accelerator]) -> None:
    for accelerator in accelerators():
        registry.add(accelerator)
