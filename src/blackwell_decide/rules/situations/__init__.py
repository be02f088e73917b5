"""The six built-in migration situations (DESIGN §4), each a rule over computed facts.

Every rule decides *whether it applies* from the facts and the scenario's thresholds, and its
verdict from the same cost reading (:func:`~blackwell_decide.rules.cost_reading.cost_case`:
against the cheapest no-purchase option that holds the service level), choosing only among the options the
other rules leave available (:meth:`~blackwell_decide.rules.facts.Facts.choices`); what differs
is which facts it brings forward as reasons and which values it reports as flip points. None of
them holds a conclusion of its own: change a price, a length or a threshold in the scenario and
the verdicts follow.

To change one, register a rule with ``replaces = "<id>"`` from a plugin (see ``rule_set``).

The situations live by group: :mod:`.traffic` (1–3: the shape of the traffic decides) and
:mod:`.hardware` (4–6: today's GPUs, the site and the serving stack), over the readings they
share (:mod:`._readings`).
"""

from __future__ import annotations

from blackwell_decide.rules.finding import Rule
from blackwell_decide.rules.situations.hardware import Facility, NewerCurrentFleet, PrecisionOrStack
from blackwell_decide.rules.situations.traffic import DecodeBoundRentedFleet, KvWall, PrefillHeavy

BUILTIN_RULES: tuple[Rule, ...] = (
    DecodeBoundRentedFleet(),
    KvWall(),
    PrefillHeavy(),
    NewerCurrentFleet(),
    Facility(),
    PrecisionOrStack(),
)
