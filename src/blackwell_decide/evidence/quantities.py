"""The quantities a claim can be about, and how each is recomputed.

A calculator receives the claim's scenario and returns a
:class:`~blackwell_decide.evidence.readings.Recomputed`: the library's own answer (``primary``)
plus other *readings* of the same scenario (the source's conventions, a different pair of price
tiers, the evidence read on another token basis, …). The audit compares the claimed value with the
primary answer and, where they differ, names which readings reproduce the claim. The calculators
live with the layer they recompute through; this module is the one table of them.
"""

from __future__ import annotations

from blackwell_decide.evidence import _bounds_quantities, _economics_quantities, _record_quantities
from blackwell_decide.evidence.readings import Calculator

#: Every quantity name a claims file may use, with its calculator.
QUANTITIES: dict[str, Calculator] = {
    **_bounds_quantities.CALCULATORS,
    **_economics_quantities.CALCULATORS,
    **_record_quantities.CALCULATORS,
}
