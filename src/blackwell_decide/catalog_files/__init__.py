"""Loaders for catalog data files: accelerators, number formats, dated price snapshots, and a
user's own price file; one module per file kind, all reading through the shared validating reader
(:mod:`blackwell_decide.input_schema`).

This is public API: the built-in catalogs use these loaders exactly as a third-party plugin
would (see ``docs/catalog-schema.md`` for the file format). Units in the files are the ones
vendors print (TB/s decimal, dense TFLOPS, device memory in MiB as nvidia-smi prints it, labels in
GB); everything returned is SI.

Every problem in one file is collected and reported together, each with its key path (for
instance ``accelerator[3].bandwidth.value_tb_s``) and how to fix it: built-in or plugin data
raises :class:`CatalogFileError` (a :class:`~blackwell_decide.errors.CatalogError`), a user's
price file raises :class:`PriceFileError` (a :class:`~blackwell_decide.errors.UsageError`).
"""

from blackwell_decide.catalog_files._reader import CatalogFileError, CatalogPath, PriceFileError
from blackwell_decide.catalog_files.accelerators import load_accelerators
from blackwell_decide.catalog_files.formats import load_number_formats
from blackwell_decide.catalog_files.prices import KeyResolver, load_price_file, load_price_snapshots

# The tier words moved into the model's open registry; this name stays for existing callers.
from blackwell_decide.model import PRICE_TIERS

__all__ = [
    "PRICE_TIERS",
    "CatalogFileError",
    "CatalogPath",
    "KeyResolver",
    "PriceFileError",
    "load_accelerators",
    "load_number_formats",
    "load_price_file",
    "load_price_snapshots",
]
