"""Migration rules: facts computed from a scenario, the six built-in situations (registered as
plugins through ``register_rules``), and the engine that combines their findings into one
recommendation with its timing.

    from blackwell_decide.rules import decide_scenario
    decision = decide_scenario("examples/s1-h100-chat-fleet.toml", catalog)
    decision.recommendation.verdict, [f.id for f in decision.findings if f.applies]
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from blackwell_decide.rules.cost_reading import CostCase, cost_case, cost_verdict
from blackwell_decide.rules.engine import Decision, Recommendation, decide, evaluate, recommend
from blackwell_decide.rules.facts import Facts, compute_facts
from blackwell_decide.rules.finding import Exclusion, Finding, FlipPoint, Reason, Rule, cite
from blackwell_decide.rules.option_facts import Comparison, FleetCheck, OptionFacts, Retune
from blackwell_decide.rules.rule_set import RuleWarning, active_rules
from blackwell_decide.rules.timing import Timing
from blackwell_decide.rules.verdict import Verdict

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog


def decide_scenario(path: str | Path, catalog: Catalog, as_of: dt.date | None = None) -> Decision:
    """Load the scenario at ``path`` against ``catalog``, compute its facts on ``as_of`` (default:
    the scenario's date, else today) and run ``catalog``'s rules. (The package root's
    ``decide_scenario`` picks the default catalog for a caller who passes none.)"""
    from blackwell_decide.scenario import load_scenario

    scenario = load_scenario(path, catalog)
    return decide(compute_facts(scenario, catalog, as_of=as_of))


__all__ = [
    "Comparison",
    "CostCase",
    "Decision",
    "Exclusion",
    "Facts",
    "Finding",
    "FleetCheck",
    "FlipPoint",
    "OptionFacts",
    "Reason",
    "Recommendation",
    "Retune",
    "Rule",
    "RuleWarning",
    "Timing",
    "Verdict",
    "active_rules",
    "cite",
    "compute_facts",
    "cost_case",
    "cost_verdict",
    "decide",
    "decide_scenario",
    "evaluate",
    "recommend",
]
