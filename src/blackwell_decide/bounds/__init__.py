"""Physical bounds: sympy formulas compiled ahead of time, evaluated for a deployment.

This package's ``__init__`` stays light, and computing a bound never imports sympy: the
formulas' numeric and printed forms are generated into ``_compiled_formulas`` (see formulas.py).
"""

from blackwell_decide.bounds.compute import (
    DEFAULT_SEQ_LENS,
    apply_conventions,
    compute_bounds,
    kv_replication,
    smallest_fitting_tp,
    weight_bytes_total,
)
from blackwell_decide.bounds.results import Bounds, Derived, Input, Speedup, SpeedupTerm
from blackwell_decide.bounds.speedup import speedup

__all__ = [
    "DEFAULT_SEQ_LENS",
    "Bounds",
    "Derived",
    "Input",
    "Speedup",
    "SpeedupTerm",
    "apply_conventions",
    "compute_bounds",
    "kv_replication",
    "smallest_fitting_tp",
    "speedup",
    "weight_bytes_total",
]
