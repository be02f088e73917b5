"""Physical bounds: sympy formulas compiled once, evaluated for a deployment.

This package's ``__init__`` stays light: sympy is imported when a bound is first computed.
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
