"""Validation of the registered profiles against every shipped data set: mean absolute
percentage errors of TPOT, TTFT and throughput, in-sample (the data set was fitted on) or held
out (it was not), tensor-parallel cross-validation, and any measured point that beats a
physical bound (which would mean a wrong figure somewhere)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from blackwell_decide.perf._profile_choice import choose_profile
from blackwell_decide.perf.ceilings import efficiency_caps
from blackwell_decide.perf.evaluate import DeploymentCache, PointResult, Skipped, evaluate, mape
from blackwell_decide.perf.fit import START, cross_validate_tp
from blackwell_decide.perf.ingest import Measurement, load_dataset
from blackwell_decide.perf.physics import DeploymentTerms
from blackwell_decide.perf.profile import CalibrationProfile

if TYPE_CHECKING:
    from blackwell_decide.datasets import DatasetInfo
    from blackwell_decide.plugins import Catalog

METRICS = ("tpot", "ttft", "throughput")
Score = tuple[float | None, int]


@attrs.frozen
class SplitScore:
    """MAPE (fraction) and point count per metric for one data set and one split."""

    split: str  # "in-sample" or "held-out"
    profiles: tuple[str, ...]
    scores: dict[str, Score]


@attrs.frozen
class DatasetScore:
    dataset: DatasetInfo
    rows: int
    splits: tuple[SplitScore, ...]
    violations: tuple[str, ...]
    skipped: tuple[str, ...]


@attrs.frozen
class CrossValidation:
    profile: str
    train_tp: tuple[int, ...]
    test_tp: tuple[int, ...]
    scores: dict[str, Score]


@attrs.frozen
class ShapeHoldout:
    """Profiles refitted on the 1k/1k-like workload shapes only, scored per data set and engine
    on the shapes they never saw."""

    dataset: str
    fitted_on: str  # the shapes, e.g. "922/922, 1000/1000"
    profiles: tuple[str, ...]
    scores: dict[str, Score]
    #: parameters those shapes' rows cannot identify, left at the fit's start values
    left_at_start: tuple[str, ...] = ()
    engine: str = ""


@attrs.frozen
class ShapeScore:
    """Errors of the shipped profiles on one data set, engine and workload shape."""

    dataset: str
    engine: str
    shape: str
    split: str
    scores: dict[str, Score]


@attrs.frozen
class ValidationReport:
    datasets: tuple[DatasetScore, ...]
    cross_validation: tuple[CrossValidation, ...]
    shape_holdout: tuple[ShapeHoldout, ...] = ()
    by_shape: tuple[ShapeScore, ...] = ()

    @property
    def violations(self) -> tuple[str, ...]:
        return tuple(v for d in self.datasets for v in d.violations)

    @property
    def ok(self) -> bool:
        return not self.violations


def _in_sample(result: PointResult, profile: CalibrationProfile, cache: DeploymentCache) -> bool:
    """Whether ``profile`` was fitted on the measurement of ``result``: its data set and, where
    the fit records them, its accelerator (the MI355X rows of a data set whose MI300X rows a
    profile was fitted on are held out for it)."""
    m, fit = result.measurement, profile.fitted_on
    if fit is None or m.dataset not in fit.datasets:
        return False
    return not fit.accelerators or cache.terms(m.deployment_key).accelerator in fit.accelerators


def validate(*, catalog: Catalog, cross_validation: bool = True) -> ValidationReport:
    """Score the registered profiles on every shipped serving data set."""
    from blackwell_decide.datasets import list_datasets

    cache = DeploymentCache(catalog)
    chosen: dict[tuple[object, ...], CalibrationProfile] = {}

    def profile_for(m: Measurement, terms: DeploymentTerms) -> CalibrationProfile:
        key = (m.engine, terms.family)
        if key not in chosen:
            chosen[key] = choose_profile(terms, m.workload, m.engine, catalog=catalog).profile
        return chosen[key]

    scores = []
    by_shape: list[ShapeScore] = []
    for info in list_datasets():
        if info.role == "reference":
            continue
        measurements = load_dataset(info.id)
        results, skipped = evaluate(measurements, profile_for, cache=cache)
        by_shape.extend(_by_shape(info.id, results, chosen, cache))
        scores.append(_dataset_score(info, measurements, results, skipped, chosen, cache))
    crossed = _cross_validations(chosen, cache, catalog) if cross_validation else []
    holdout = _shape_holdout(cache, catalog) if cross_validation else ()
    return ValidationReport(tuple(scores), tuple(crossed), holdout, tuple(by_shape))


def _dataset_score(
    info: DatasetInfo,
    measurements: Sequence[Measurement],
    results: Sequence[PointResult],
    skipped: Sequence[Skipped],
    chosen: dict[tuple[object, ...], CalibrationProfile],
    cache: DeploymentCache,
) -> DatasetScore:
    """One data set's errors, split into the rows its profiles were fitted on and the rest, with
    the rows that beat a bound and those the catalog could not resolve."""
    splits = []
    for split, keep in (("in-sample", True), ("held-out", False)):
        points = [r for r in results if _in_sample(r, _profile_of(r, chosen), cache) == keep]
        if points:
            splits.append(SplitScore(split, tuple(sorted({r.profile for r in points})), _score(points)))
    violations = tuple(f"{r.measurement.label}: {'; '.join(r.beats_bound)}" for r in results if r.beats_bound)
    return DatasetScore(
        info,
        len(measurements),
        tuple(splits),
        violations,
        tuple(f"{s.measurement.label}: {s.reason}" for s in skipped),
    )


def _cross_validations(
    chosen: dict[tuple[object, ...], CalibrationProfile], cache: DeploymentCache, catalog: Catalog
) -> list[CrossValidation]:
    """Refit each profile that was chosen on its smaller TP sizes and score it on the larger."""
    from blackwell_decide.perf.ceilings import shipped_microbenchmarks

    crossed: list[CrossValidation] = []
    micro = shipped_microbenchmarks()
    # A profile borrowed by another family (MI300X on vllm-hopper) is cross-validated once, as
    # the family it was fitted for, not again under the borrower's key.
    own = {p.key: p for (_engine, family), p in chosen.items() if p.family == family}
    for profile in sorted(own.values(), key=lambda p: p.key):
        if not profile.is_fitted or profile.fitted_on is None:
            continue
        rows = _fit_rows(profile, cache)
        sizes = sorted({m.tp for m in rows})
        if len(sizes) < 2:
            continue
        caps = efficiency_caps(profile.family, micro, catalog=catalog)
        crossed_points = cross_validate_tp(rows, profile, caps=caps, cache=cache)
        cut = sizes[(len(sizes) - 1) // 2]
        crossed.append(
            CrossValidation(
                profile.key,
                tuple(s for s in sizes if s <= cut),
                tuple(s for s in sizes if s > cut),
                _score(crossed_points),
            )
        )
    return crossed


def _by_shape(
    dataset: str,
    results: Sequence[PointResult],
    chosen: dict[tuple[object, ...], CalibrationProfile],
    cache: DeploymentCache,
) -> list[ShapeScore]:
    groups: dict[tuple[str, str, str], list[PointResult]] = {}
    for r in results:
        m = r.measurement
        split = "in-sample" if _in_sample(r, _profile_of(r, chosen), cache) else "held-out"
        groups.setdefault((m.engine, m.workload.label, split), []).append(r)
    return [
        ShapeScore(dataset, engine, shape, split, _score(points)) for (engine, shape, split), points in groups.items()
    ]


#: A workload shape is "1k/1k-like" when both its lengths are within this factor of the most
#: common fitting shape (the sweep's 922/922 mean; the offline tables' 1000/1000 qualifies).
SHAPE_HOLDOUT_FACTOR = 1.25


def _like(shape: tuple[int, int], centre: tuple[int, int]) -> bool:
    f = SHAPE_HOLDOUT_FACTOR
    return all(c / f <= v <= c * f for v, c in zip(shape, centre, strict=True))


def _shape_holdout(cache: DeploymentCache, catalog: Catalog) -> tuple[ShapeHoldout, ...]:
    """Refit every engine and family from scratch (the fit's start values, nothing taken from
    the shipped profiles) on the 1k/1k-like workload shapes of the fitting data (see
    :data:`SHAPE_HOLDOUT_FACTOR`), and score the refits, per data set and engine, on every other
    shipped serving measurement of those engines and families."""
    like, train, test = _holdout_rows()
    by_pair, left_at_start = _refit_from_scratch(train, cache, catalog)
    refitted = []
    for m in test:
        try:
            family = cache.terms(m.deployment_key).family.lower()
        except Exception:  # reported as skipped in the main table already
            continue
        if (m.engine, family) in by_pair:
            refitted.append(m)
    points, _ = evaluate(refitted, lambda m, terms: by_pair[(m.engine, terms.family.lower())], cache=cache)
    scored: dict[tuple[str, str], list[PointResult]] = {}
    for point in points:
        scored.setdefault((point.measurement.dataset, point.measurement.engine), []).append(point)
    label = ", ".join(f"{i}/{o}" for i, o in like)
    out = []
    for (dataset, engine), points in scored.items():
        profiles = tuple(sorted({p.profile for p in points}))
        kept = tuple(n for n in START if any(n in left_at_start.get(p, ()) for p in profiles))
        out.append(ShapeHoldout(dataset, label, profiles, _score(points), kept, engine))
    return tuple(out)


def _holdout_rows() -> tuple[list[tuple[int, int]], list[Measurement], list[Measurement]]:
    """The 1k/1k-like shapes (around the fitting data's most common one), the fitting rows of
    those shapes to refit on, and every shipped serving row of another shape to score on."""
    from blackwell_decide.datasets import list_datasets

    fitting = [m for info in list_datasets("fit") for m in load_dataset(info.id)]
    shapes: dict[tuple[int, int], int] = {}
    for m in fitting:
        shapes[(m.workload.isl, m.workload.osl)] = shapes.get((m.workload.isl, m.workload.osl), 0) + 1
    centre = max(shapes, key=lambda k: shapes[k])
    like = sorted(s for s in shapes if _like(s, centre))
    train = [m for m in fitting if (m.workload.isl, m.workload.osl) in like]
    test = [
        m
        for info in list_datasets()
        if info.role != "reference"
        for m in load_dataset(info.id)
        if not _like((m.workload.isl, m.workload.osl), centre)
    ]
    return like, train, test


def _refit_from_scratch(
    train: Sequence[Measurement], cache: DeploymentCache, catalog: Catalog
) -> tuple[dict[tuple[str, str], CalibrationProfile], dict[str, tuple[str, ...]]]:
    """Every engine and family fitted from the fit's start values on ``train`` alone: the refits
    by (engine, family), and the parameters each refit left at their start values."""
    from blackwell_decide.perf.calibrate import base_profile
    from blackwell_decide.perf.ceilings import shipped_microbenchmarks
    from blackwell_decide.perf.fit import fit_profiles

    groups: dict[str, dict[str, list[Measurement]]] = {}
    for m in train:
        try:
            family = cache.terms(m.deployment_key).family.lower()
        except Exception:  # rows the catalog cannot resolve are not fitted
            continue
        groups.setdefault(family, {}).setdefault(m.engine, []).append(m)
    micro = shipped_microbenchmarks()
    refits: list[CalibrationProfile] = []
    left_at_start: dict[str, tuple[str, ...]] = {}
    for family, by_engine in sorted(groups.items()):
        bases = [
            (rows, base_profile(e, family, catalog).with_parameters(START)) for e, rows in sorted(by_engine.items())
        ]
        fits = fit_profiles(
            bases, caps=efficiency_caps(family, micro, catalog=catalog), cross_validate=False, cache=cache
        )
        refits += [r.profile for r in fits]
        left_at_start.update({r.profile.key: r.kept for r in fits})
    return {(p.engine, p.family.lower()): p for p in refits}, left_at_start


def _profile_of(result: PointResult, chosen: dict[tuple[object, ...], CalibrationProfile]) -> CalibrationProfile:
    for profile in chosen.values():
        if profile.key == result.profile:
            return profile
    raise KeyError(result.profile)


def _fit_rows(profile: CalibrationProfile, cache: DeploymentCache) -> list[Measurement]:
    """The rows ``profile`` was fitted on: its data sets' rows of its engine and family."""
    assert profile.fitted_on is not None
    rows = []
    for dataset_id in profile.fitted_on.datasets:
        for m in load_dataset(dataset_id):
            if m.engine != profile.engine:
                continue
            try:
                family = cache.terms(m.deployment_key).family
            except Exception:  # rows the catalog cannot resolve were not fitted either
                continue
            if family.lower() == profile.family.lower():
                rows.append(m)
    return rows


def _score(points: Sequence[PointResult]) -> dict[str, Score]:
    return {metric: mape(points, metric) for metric in METRICS}


# ------------------------------------------------------------------------------ rendering
def _pct(score: Score) -> str:
    value, n = score
    return "-" if value is None else f"{value * 100:.1f} % ({n})"


def render(report: ValidationReport) -> str:
    """The report as plain text tables."""
    lines = ["Mean absolute percentage error, measured vs predicted (points in brackets)", ""]
    header = f"{'data set':34} {'split':10} {'TPOT':>13} {'TTFT':>13} {'throughput':>13}  profiles"
    lines += [header, "-" * len(header)]
    for d in report.datasets:
        for s in d.splits:
            lines.append(
                f"{d.dataset.id:34} {s.split:10} {_pct(s.scores['tpot']):>13} {_pct(s.scores['ttft']):>13} "
                f"{_pct(s.scores['throughput']):>13}  {', '.join(s.profiles)}"
            )
    lines += _cross_validation_lines(report)
    lines += _by_shape_lines(report)
    lines += _shape_holdout_lines(report)
    lines.append("")
    lines += _skipped_and_bound_lines(report)
    return "\n".join(lines)


# One helper per table after the first, each returning its lines (none when it has no rows).
def _cross_validation_lines(report: ValidationReport) -> list[str]:
    lines: list[str] = []
    if report.cross_validation:
        lines += ["", "Tensor-parallel cross-validation (refit on the smaller TP sizes, predict the larger)", ""]
        header = f"{'profile':18} {'fit on TP':10} {'predict TP':11} {'TPOT':>13} {'TTFT':>13} {'throughput':>13}"
        lines += [header, "-" * len(header)]
        for c in report.cross_validation:
            lines.append(
                f"{c.profile:18} {','.join(map(str, c.train_tp)):10} {','.join(map(str, c.test_tp)):11} "
                f"{_pct(c.scores['tpot']):>13} {_pct(c.scores['ttft']):>13} {_pct(c.scores['throughput']):>13}"
            )
    return lines


def _by_shape_lines(report: ValidationReport) -> list[str]:
    lines: list[str] = []
    if report.by_shape:
        lines += ["", "Per workload shape and engine (shipped profiles)", ""]
        header = f"{'data set':30} {'engine':7} {'shape':11} {'split':10} {'TPOT':>13} {'TTFT':>13} {'throughput':>13}"
        lines += [header, "-" * len(header)]
        for b in report.by_shape:
            lines.append(
                f"{b.dataset:30} {b.engine:7} {b.shape:11} {b.split:10} {_pct(b.scores['tpot']):>13} "
                f"{_pct(b.scores['ttft']):>13} {_pct(b.scores['throughput']):>13}"
            )
    return lines


def _shape_holdout_lines(report: ValidationReport) -> list[str]:
    """The shape hold-out table, and which parameters its refits could not identify."""
    lines: list[str] = []
    if report.shape_holdout:
        shape = report.shape_holdout[0].fitted_on
        lines += [
            "",
            f"Shape hold-out (refit from scratch on the 1k/1k-like mean-token shapes {shape} only, "
            "predict the other shapes)",
            "",
        ]
        header = f"{'data set':34} {'engine':7} {'TPOT':>13} {'TTFT':>13} {'throughput':>13}  profiles"
        lines += [header, "-" * len(header)]
        for h in report.shape_holdout:
            lines.append(
                f"{h.dataset:34} {h.engine:7} {_pct(h.scores['tpot']):>13} {_pct(h.scores['ttft']):>13} "
                f"{_pct(h.scores['throughput']):>13}  {', '.join(h.profiles)}"
            )
        kept = [n for n in START if n != "burst_share" and any(n in h.left_at_start for h in report.shape_holdout)]
        if kept:
            lines += [
                "",
                f"The {shape} rows cannot identify {', '.join(f'{n} ({START[n]:g})' for n in kept)}: "
                "the refits keep the fit's start values for them.",
            ]
    return lines


def _skipped_and_bound_lines(report: ValidationReport) -> list[str]:
    """The rows left out, then whether any measured row beat its physical bound."""
    lines: list[str] = []
    skipped = [s for d in report.datasets for s in d.skipped]
    if skipped:
        lines.append(f"{len(skipped)} measured point(s) skipped (not resolvable in the catalog):")
        lines += [f"  {s}" for s in skipped]
    if report.violations:
        lines.append(f"FAIL: {len(report.violations)} measured point(s) beat a physical bound:")
        lines += [f"  {v}" for v in report.violations]
    else:
        total = sum(d.rows for d in report.datasets)
        lines.append(
            f"bounds: none of the {total} measured points beats its physical bound (decode floor, throughput ceiling)"
        )
    return lines
