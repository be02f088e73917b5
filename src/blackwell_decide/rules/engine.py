"""The rules engine: rules read computed facts and return findings; the engine combines them into
one recommendation.

Combining: every finding may exclude options (a facility that cannot host a GPU, a precision
the constraints rule out) and propose alternatives (the same GPU rented, the candidate at FP8);
the rules then run again over facts that carry those exclusions, so no rule deciding on cost
picks an excluded option. Among the options left, the lowest monthly cost at the scenario's
price tier wins, and the verdict for it follows from the same cost reading every rule uses
(:func:`~blackwell_decide.rules.cost_reading.cost_case`). "When" comes from
:mod:`~blackwell_decide.rules.timing`; which rules run, from
:func:`~blackwell_decide.rules.rule_set.active_rules`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.rules.cost_reading import cost_case
from blackwell_decide.rules.finding import Exclusion, Finding, Reason, Rule
from blackwell_decide.rules.rule_set import RuleWarning, active_rules
from blackwell_decide.rules.timing import Timing, first_step, timing_for
from blackwell_decide.rules.verdict import Verdict

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog
    from blackwell_decide.rules.facts import Facts
    from blackwell_decide.rules.ledger import Ledger


@attrs.frozen
class Recommendation:
    verdict: Verdict
    option: str | None  # option id
    option_label: str | None
    headline: str
    reasons: tuple[Reason, ...]
    timing: Timing
    excluded: tuple[Exclusion, ...]
    ranking: tuple[tuple[str, str, float], ...]  # id, label, USD/month
    baseline: str = "current"  # the option id the verdict is decided against
    ledger: Ledger | None = None  # every figure the decision states, computed once

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "option": self.option,
            "option_label": self.option_label,
            "baseline": self.baseline,
            "headline": self.headline,
            "reasons": [r.to_dict() for r in self.reasons],
            "when": self.timing.to_dict(),
            "excluded": [{"option": e.option, "reason": e.reason, "by": e.by} for e in self.excluded],
            "ranking": [{"option": oid, "label": label, "usd_per_month": cost} for oid, label, cost in self.ranking],
            "ledger": self.ledger.to_dict() if self.ledger else None,
        }


@attrs.frozen
class Decision:
    facts: Facts
    findings: tuple[Finding, ...]
    recommendation: Recommendation

    def finding(self, rule_id: str) -> Finding:
        for f in self.findings:
            if f.id == rule_id:
                return f
        raise KeyError(rule_id)

    def to_dict(self) -> dict[str, Any]:
        facts = self.facts
        s = facts.scenario
        options = []
        for o in (facts.current, *facts.options):
            today = facts.comparisons.get(o.id)
            retuned = facts.retuned_comparisons.get(o.id)
            rightsized = facts.rightsized_comparisons.get(o.id)
            options.append(
                {
                    **o.to_dict(),
                    "against_today": today.to_dict() if today else None,
                    "against_retuned": retuned.to_dict() if retuned else None,
                    "against_rightsized": rightsized.to_dict() if rightsized else None,
                }
            )
        return {
            "scenario": {"name": s.name, "file": s.path.name, "sha256": s.sha256},
            "recommendation": self.recommendation.to_dict(),
            "baseline": facts.baseline.id,
            "fleet_check": facts.fleet_check.to_dict() if facts.fleet_check else None,
            "retune": facts.retune.to_dict() if facts.retune else None,
            "options": options,
            "situations": [f.to_dict() for f in self.findings],
            # How the traffic was sized, when that needs saying (a traffic mix: per class).
            **({"notes": list(facts.notes)} if facts.notes else {}),
        }


def _run_rules(facts: Facts, rules: Sequence[Rule], problems: list[str]) -> tuple[Finding, ...]:
    """Each rule's finding; a plugin rule that raises or returns something else is left out and
    named in ``problems``. The built-in rules' errors propagate."""
    findings = []
    for rule in rules:
        module = type(rule).__module__
        try:
            finding = rule.evaluate(facts)
        except Exception as exc:
            if module.startswith("blackwell_decide."):
                raise
            # attrs' TypeError carries the attribute and its type after the message: keep the message.
            said = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
            problems.append(f"rule {rule.id!r} failed ({type(exc).__name__}: {said}); left out")
            continue
        if not isinstance(finding, Finding):
            problems.append(f"rule {rule.id!r} returned {type(finding).__name__}, not a Finding; left out")
            continue
        findings.append(finding)
    return tuple(findings)


def constrain(facts: Facts, findings: Sequence[Finding]) -> Facts:
    """``facts`` with the options the applying findings exclude (the first exclusion of an option
    wins, marked with the rule that made it) and the alternatives they propose."""
    excluded: dict[str, Exclusion] = {}
    for f in findings:
        if not f.applies:
            continue
        for e in f.excludes:
            excluded.setdefault(e.option, e if e.by else attrs.evolve(e, by=f.id))
    proposed = frozenset(oid for f in findings if f.applies for oid in f.adds)
    return attrs.evolve(facts, excluded=excluded, proposed=proposed)


def evaluate(facts: Facts, rules: Sequence[Rule]) -> tuple[Finding, ...]:
    """Each rule's finding, in two passes when a rule excludes or proposes options: the second
    runs every rule over facts that carry those exclusions and proposals, so a rule deciding on
    cost never recommends an option another rule ruled out. A plugin rule that raises is reported
    as a warning (once) and left out, so one broken plugin never takes the decision down with it;
    the built-in rules' errors propagate."""
    problems: list[str] = []
    findings = _run_rules(facts, rules, problems)
    constrained = constrain(facts, findings)
    if constrained.excluded or constrained.proposed:
        problems = []
        findings = _run_rules(constrained, rules, problems)
    for problem in problems:
        warnings.warn(problem, RuleWarning, stacklevel=2)
    return findings


def recommend(facts: Facts, findings: Sequence[Finding]) -> Recommendation:
    """Combine the findings that apply: exclusions first, then the cheapest option left."""
    facts = constrain(facts, findings)
    priced = [o for o in facts.choices() if o.id in facts.comparisons]
    ranking = sorted(priced, key=lambda o: (facts.comparisons[o.id].option_monthly_usd, o.id))
    exclusions = tuple(facts.excluded[k] for k in sorted(facts.excluded))
    table = tuple((o.id, o.label, facts.comparisons[o.id].option_monthly_usd) for o in ranking)
    if not ranking:
        none_left = tuple(Reason(f"{_label(facts, e.option)}: {e.reason}") for e in exclusions) or (
            Reason("no candidate can serve the workload at its service level"),
        )
        from blackwell_decide.rules.ledger import build_ledger

        timing = Timing(
            None, first_step(facts) + "keep the current fleet", None, facts.scenario.current.contract_end, None
        )
        ledger = build_ledger(facts, Verdict.DO_NOT_MIGRATE, None, None, timing)
        return Recommendation(
            verdict=Verdict.DO_NOT_MIGRATE,
            option=None,
            option_label=None,
            headline=ledger.headline,
            ledger=ledger,
            reasons=none_left,
            timing=timing,
            excluded=exclusions,
            ranking=table,
            baseline=facts.baseline.id,
        )
    from blackwell_decide.rules.ledger import build_ledger

    best = ranking[0]
    case = cost_case(facts, best.id)
    timing = timing_for(facts, case.comparison, case.verdict)
    ledger = build_ledger(facts, case.verdict, best, case, timing)
    return Recommendation(
        verdict=case.verdict,
        option=best.id,
        option_label=best.label,
        headline=ledger.headline,
        ledger=ledger,
        reasons=(*case.reasons, *left_out(facts)),
        timing=timing,
        excluded=exclusions,
        ranking=table,
        baseline=facts.baseline.id,
    )


def left_out(facts: Facts) -> tuple[Reason, ...]:
    """One reason per option an applying rule excluded, naming the rule."""
    return tuple(
        Reason(f"left out: {_label(facts, oid)} ({e.reason}{f'; {e.by}' if e.by else ''})")
        for oid, e in sorted(facts.excluded.items())
    )


def _label(facts: Facts, option_id: str) -> str:
    try:
        return facts.option(option_id).label
    except KeyError:
        return option_id


def decide(facts: Facts, rules: Sequence[Rule] | None = None, catalog: Catalog | None = None) -> Decision:
    """Run the rules over ``facts`` and combine their findings: ``rules`` when given, else the
    rules of ``catalog`` (default: the catalog the facts were computed with)."""
    rules = list(rules) if rules is not None else active_rules(catalog or facts.catalog)
    findings = evaluate(facts, rules)
    return Decision(facts=facts, findings=findings, recommendation=recommend(facts, findings))
