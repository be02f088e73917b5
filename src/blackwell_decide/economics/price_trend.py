"""Prices over time: the dated series of each provider × GPU × tier, a log-linear trend fitted to
it, and "when": what moving now saves against moving in N months, with its uncertainty.

The trend is ordinary least squares of ln(price) on days since the first snapshot; its band is the
slope's standard error carried to the projection as ± the Student-t 90th percentile with n - 2
degrees of freedom (p10–p90): with three snapshots that is ±3.08 σ, not the normal ±1.28 σ, since
one degree of freedom barely pins the scatter. With two snapshots the slope is exact and the band
is undefined (reported as such); with one there is no trend.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from blackwell_decide.errors import UsageError

if TYPE_CHECKING:
    from blackwell_decide.plugins import Catalog

__all__ = [
    "PricePoint",
    "PriceSeries",
    "PriceTrend",
    "WhenAnswer",
    "fit_trend",
    "price_series",
    "student_t_quantile",
    "when_to_move",
]

DAYS_PER_MONTH = 365.25 / 12
#: The farthest a "when" question looks ahead: a three-year lease or depreciation term. Beyond
#: it a trend fitted over a few snapshots says nothing, and its compounding overflows.
MAX_WHEN_MONTHS = 36.0
#: Carried further than this multiple of the span it was fitted over, a trend is a direction,
#: not a forecast, and the answer says so.
FORECAST_SPAN_MULTIPLE = 3.0
#: A trend that multiplies the price by more than e^50 (~5e21) is no price: refused, not printed.
MAX_LOG_GROWTH = 50.0


def student_t_quantile(p: float, dof: int) -> float:
    """The ``p`` quantile (0.5 < p < 1) of Student's t with ``dof`` degrees of freedom, by bisection
    on its CDF (the density integrated with the trapezoid rule on a fine grid; no scipy here).
    Checked against the tables: t(0.9; 1) = 3.0777, t(0.9; 2) = 1.8856, t(0.9; 10) = 1.3722."""
    if not (0.5 < p < 1 and dof >= 1):
        raise ValueError(f"student_t_quantile needs 0.5 < p < 1 and dof ≥ 1, got p={p}, dof={dof}")
    log_norm = math.lgamma((dof + 1) / 2) - math.lgamma(dof / 2) - 0.5 * math.log(dof * math.pi)

    def cdf(x: float) -> float:
        grid = np.linspace(0.0, x, 20_001)
        density = np.exp(log_norm - (dof + 1) / 2 * np.log1p(grid**2 / dof))
        return 0.5 + float(np.sum((density[1:] + density[:-1]) * np.diff(grid)) / 2)

    low, high = 0.0, 1.0
    while cdf(high) < p:
        high *= 2
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if cdf(mid) < p else (low, mid)
    return (low + high) / 2


@attrs.frozen
class PricePoint:
    as_of: dt.date
    usd_per_gpu_hour: float
    source_url: str


@attrs.frozen
class PriceSeries:
    provider: str
    gpu: str
    tier: str
    points: tuple[PricePoint, ...]  # oldest first

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "gpu": self.gpu,
            "tier": self.tier,
            "points": [
                {"as_of": p.as_of.isoformat(), "usd_per_gpu_hour": p.usd_per_gpu_hour, "source": p.source_url}
                for p in self.points
            ],
        }


@attrs.frozen
class PriceTrend:
    """ln(price) = intercept + slope × days since ``start``; ``slope_se`` is None with two points."""

    series: PriceSeries
    start: dt.date
    intercept: float
    slope_per_day: float
    slope_se: float | None

    @property
    def monthly_change(self) -> float:
        """Relative change per month of the fitted price (−0.05: falls 5 % a month)."""
        return math.expm1(self.slope_per_day * DAYS_PER_MONTH)

    @property
    def p90_multiplier(self) -> float:
        """Standard errors of the slope either side of the fit that span p10–p90: the Student-t
        90th percentile with n - 2 degrees of freedom (the residual scatter is estimated, not known)."""
        return student_t_quantile(0.9, len(self.series.points) - 2)

    def growth(self, days: int, z: float = 0.0) -> float:
        """The factor the fitted price changes by over ``days``; ``z`` standard errors of the
        slope away from the fit. The fit is anchored at the latest quote, so only the slope
        carries the change."""
        exponent = (self.slope_per_day + z * (self.slope_se or 0.0)) * days
        if abs(exponent) > MAX_LOG_GROWTH:
            raise UsageError(
                f"the {self.series.provider} {self.series.gpu} price trend ({self.monthly_change:+.1%} a month) "
                f"carried {days:,} days changes the price by more than e^{MAX_LOG_GROWTH:g}; "
                "ask --when for fewer months or add price snapshots over a longer span"
            )
        return math.exp(exponent)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.series.to_dict(),
            "fit": "ln(price) = a + b * days; least squares",
            "slope_per_day": self.slope_per_day,
            "slope_standard_error": self.slope_se,
            "monthly_change": self.monthly_change,
        }


def price_series(
    catalog: Catalog, *, provider: str | None = None, gpu: str | None = None, tier: str | None = None
) -> list[PriceSeries]:
    """Every provider × GPU × tier quoted in the registered snapshots, dated, oldest first."""
    found: dict[tuple[str, str, str], dict[dt.date, PricePoint]] = {}
    for snap in catalog.prices.values():
        if provider is not None and snap.provider.lower() != provider.strip().lower():
            continue
        for q in snap.quotes:
            if gpu is not None and q.accelerator != gpu:
                continue
            if tier is not None and q.tier != tier:
                continue
            key = (snap.provider, q.accelerator, q.tier)
            found.setdefault(key, {})[snap.as_of] = PricePoint(snap.as_of, q.usd_per_gpu_hour, q.source.url)
    return [
        PriceSeries(p, g, t, tuple(points[d] for d in sorted(points))) for (p, g, t), points in sorted(found.items())
    ]


def fit_trend(series: PriceSeries) -> PriceTrend:
    """Log-linear least squares over the series' snapshots (at least two distinct dates)."""
    if len(series.points) < 2:
        raise UsageError(
            f"{series.provider} {series.gpu} {series.tier} has {len(series.points)} dated price(s); a trend needs two "
            "or more snapshots"
        )
    start = series.points[0].as_of
    t = np.array([(p.as_of - start).days for p in series.points], dtype=float)
    y = np.log(np.array([p.usd_per_gpu_hour for p in series.points], dtype=float))
    design = np.column_stack([np.ones_like(t), t])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    se: float | None = None
    n = t.size
    if n > 2:
        residual = y - design @ coef
        sigma2 = float(residual @ residual) / (n - 2)
        se = math.sqrt(sigma2 / float(((t - t.mean()) ** 2).sum()))
    return PriceTrend(series, start, float(coef[0]), float(coef[1]), se)


@attrs.frozen
class WhenAnswer:
    """Moving now against moving in ``months``: the same fleet of ``gpus`` GPUs, its bill now at
    the latest quoted price and then at the trend's price (with the p10–p90 of the slope)."""

    trend: PriceTrend
    gpus: int
    months: float
    hours_per_month: float
    now: dt.date
    then: dt.date
    monthly_now_usd: float
    monthly_then_usd: float
    monthly_then_band_usd: tuple[float, float] | None

    @property
    def monthly_saving_from_waiting_usd(self) -> float:
        """What the bill falls by, per month, if the move waits (negative: waiting costs more)."""
        return self.monthly_now_usd - self.monthly_then_usd

    @property
    def monthly_saving_from_moving_now_usd(self) -> float:
        """What moving now saves per month against moving in ``months`` (negative: waiting is cheaper)."""
        return self.monthly_then_usd - self.monthly_now_usd

    @property
    def monthly_saving_from_moving_now_band_usd(self) -> tuple[float, float] | None:
        """The p10–p90 of :attr:`monthly_saving_from_moving_now_usd`, from the slope's band; None with
        two snapshots (no residual to estimate it from)."""
        if self.monthly_then_band_usd is None:
            return None
        lo, hi = self.monthly_then_band_usd
        return (lo - self.monthly_now_usd, hi - self.monthly_now_usd)

    def sentence(self) -> str:
        from blackwell_decide.formatting import signed_usd, usd

        s = self.trend.series
        snapshots = ", ".join(f"{p.as_of.isoformat()} ${p.usd_per_gpu_hour:.2f}/GPU-h" for p in s.points)
        sources = "; ".join(dict.fromkeys(p.source_url for p in s.points))
        change = self.trend.monthly_change
        saving = signed_usd(self.monthly_saving_from_moving_now_usd)
        band = self.monthly_saving_from_moving_now_band_usd
        if band is None:
            uncertainty = "no band: two snapshots leave no residual to estimate one from"
        else:
            uncertainty = f"p10–p90 {signed_usd(band[0])} to {signed_usd(band[1])}"
            if band[0] < 0 < band[1]:
                uncertainty += ", a band across zero: the snapshots cannot tell whether waiting pays"
        se = self.trend.slope_se
        fit = f"{change:+.1%} a month" + (
            f" (slope ±{math.expm1(se * DAYS_PER_MONTH):.1%} a month, 1 s.e.)" if se is not None else ""
        )
        span_days = (s.points[-1].as_of - s.points[0].as_of).days
        ahead_days = (self.then - self.now).days
        reach = ahead_days / span_days
        caveat = (
            f"; past {FORECAST_SPAN_MULTIPLE:g}× its span the trend is a direction, not a forecast"
            if reach > FORECAST_SPAN_MULTIPLE
            else ""
        )
        return (
            f"{s.provider} {s.gpu} {s.tier}, {len(s.points)} snapshots ({snapshots}): log-linear trend {fit}, "
            f"fitted over {span_days} days and carried {ahead_days} days ahead "
            f"({reach:.1f}× its span{caveat}). "
            f"{self.gpus} GPUs cost {usd(self.monthly_now_usd)}/month at the latest quote and "
            f"{usd(self.monthly_then_usd)}/month in {self.months:g} months on the trend. Moving now rather than in "
            f"{self.months:g} months saves {saving}/month ({uncertainty}; negative: waiting is cheaper). "
            f"Sources: {sources}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "trend": self.trend.to_dict(),
            "gpus": self.gpus,
            "months": self.months,
            "now": self.now.isoformat(),
            "then": self.then.isoformat(),
            "monthly_now_usd": self.monthly_now_usd,
            "monthly_then_usd": self.monthly_then_usd,
            "monthly_then_p10_p90_usd": list(self.monthly_then_band_usd) if self.monthly_then_band_usd else None,
            "monthly_saving_from_waiting_usd": self.monthly_saving_from_waiting_usd,
            "monthly_saving_from_moving_now_usd": self.monthly_saving_from_moving_now_usd,
            "monthly_saving_from_moving_now_p10_p90_usd": (
                list(band) if (band := self.monthly_saving_from_moving_now_band_usd) is not None else None
            ),
        }


def when_to_move(trend: PriceTrend, gpus: int, months: float, hours_per_month: float) -> WhenAnswer:
    """The bill of ``gpus`` GPUs now (the latest quote) and in ``months`` on the fitted trend."""
    if not (math.isfinite(months) and 0 <= months <= MAX_WHEN_MONTHS):
        raise UsageError(
            f"--when must be a number of months from 0 to {MAX_WHEN_MONTHS:g}, got {months!r}; "
            "a price trend fitted over a few snapshots does not carry further"
        )
    latest = trend.series.points[-1]
    days = round(months * DAYS_PER_MONTH)
    later = latest.as_of + dt.timedelta(days=days)
    ratio = trend.growth(days)
    now_usd = gpus * latest.usd_per_gpu_hour * hours_per_month
    band = None
    if trend.slope_se is not None:
        z = trend.p90_multiplier
        lo, hi = trend.growth(days, -z), trend.growth(days, z)
        band = (now_usd * min(lo, hi), now_usd * max(lo, hi))
    return WhenAnswer(trend, gpus, months, hours_per_month, latest.as_of, later, now_usd, now_usd * ratio, band)
