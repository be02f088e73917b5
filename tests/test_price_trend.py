"""Prices over time: Spheron's dated snapshots (spheron.toml: 2026-03-17, 04-18, 05-22, 06-03, each
with its source URL), the log-linear trend and the "when" answer built on it."""

from __future__ import annotations

import json
import math

import pytest

from blackwell_decide.cli import main
from blackwell_decide.economics.price_trend import fit_trend, price_series, student_t_quantile, when_to_move
from blackwell_decide.plugins import get_catalog


def test_spheron_b200_on_demand_series_and_its_fit() -> None:
    (series,) = price_series(get_catalog(), provider="spheron", gpu="b200", tier="on-demand")
    # spheron.toml: B200 on-demand $6.03 on 2026-03-17 and 2026-05-22, $8.32 on 2026-06-03.
    assert [(p.as_of.isoformat(), p.usd_per_gpu_hour) for p in series.points] == [
        ("2026-03-17", 6.03),
        ("2026-05-22", 6.03),
        ("2026-06-03", 8.32),
    ]
    trend = fit_trend(series)
    # Closed-form least squares on days 0, 66, 78 and ln(price), independent of the module's lstsq.
    t = [0.0, 66.0, 78.0]
    y = [math.log(6.03), math.log(6.03), math.log(8.32)]
    tm, ym = sum(t) / 3, sum(y) / 3
    sxx = sum((a - tm) ** 2 for a in t)
    slope = sum((a - tm) * (b - ym) for a, b in zip(t, y, strict=True)) / sxx
    residual = [b - (ym + slope * (a - tm)) for a, b in zip(t, y, strict=True)]
    se = math.sqrt(sum(r * r for r in residual) / 1 / sxx)
    assert trend.slope_per_day == pytest.approx(slope, rel=1e-9)
    assert trend.slope_se == pytest.approx(se, rel=1e-9)
    assert trend.monthly_change == pytest.approx(math.expm1(slope * 365.25 / 12), rel=1e-9)


def test_when_projects_the_bill_with_a_band() -> None:
    (series,) = price_series(get_catalog(), provider="spheron", gpu="b200", tier="on-demand")
    trend = fit_trend(series)
    answer = when_to_move(trend, gpus=6, months=3, hours_per_month=730)
    # Now: 6 GPUs × $8.32 × 730 h, the latest quote.
    assert answer.monthly_now_usd == pytest.approx(6 * 8.32 * 730, abs=0.01)
    days = round(3 * 365.25 / 12)
    assert answer.monthly_then_usd == pytest.approx(6 * 8.32 * 730 * math.exp(trend.slope_per_day * days), rel=1e-9)
    assert answer.monthly_then_band_usd is not None
    lo, hi = answer.monthly_then_band_usd
    assert lo < answer.monthly_then_usd < hi
    assert answer.monthly_saving_from_waiting_usd == pytest.approx(answer.monthly_now_usd - answer.monthly_then_usd)
    with pytest.raises(Exception, match="--when"):
        when_to_move(trend, gpus=6, months=-1, hours_per_month=730)


def test_catalog_prices_history_shows_three_or_more_dated_snapshots(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "prices", "Spheron", "--history", "--gpu", "b200", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    on_demand = next(s for s in doc if s["tier"] == "on-demand")
    assert len(on_demand["points"]) >= 3
    # Every dated price names where it was read (a URL, or the article it was quoted from).
    assert all(p["source"] for p in on_demand["points"])
    assert main(["catalog", "prices", "Spheron", "--history"]) == 0
    text = capsys.readouterr().out
    assert "2026-03-17" in text and "log-linear trend" in text and "sources:" in text


def test_when_states_the_saving_from_moving_now_with_its_band_and_cites_the_snapshots() -> None:
    (series,) = price_series(get_catalog(), provider="spheron", gpu="b200", tier="on-demand")
    trend = fit_trend(series)
    assert trend.slope_se is not None
    answer = when_to_move(trend, gpus=6, months=3, hours_per_month=730)
    # spheron.toml: $8.32/GPU-h on 2026-06-03, the latest of three; 6 GPUs × 730 h = $36,441.60/month.
    now = 6 * 8.32 * 730
    days = round(3 * 365.25 / 12)  # 91
    # The saving is the bill in 3 months on the trend less today's; its p10–p90 carries the slope ± the
    # Student-t 90th percentile with n - 2 = 1 degree of freedom, 3.0777 s.e. (standard t table).
    saving = now * math.expm1(trend.slope_per_day * days)
    low = now * math.expm1((trend.slope_per_day - 3.0776835 * trend.slope_se) * days)
    high = now * math.expm1((trend.slope_per_day + 3.0776835 * trend.slope_se) * days)
    assert answer.monthly_saving_from_moving_now_usd == pytest.approx(saving, abs=0.01)
    assert answer.monthly_saving_from_moving_now_band_usd == pytest.approx((low, high), abs=0.01)
    # On these three snapshots (slope 0.002737/day, s.e. 0.003477/day, n - 2 = 1), to the dollar: moving now
    # saves $10,308/month, p10–p90 −$18,786 to +$87,349 — the band crosses zero.
    assert saving == pytest.approx(10308, abs=1)
    assert (low, high) == pytest.approx((-18786, 87349), abs=1)
    text = answer.sentence()
    for cited in ("Spheron b200 on-demand", "3 snapshots", "2026-03-17 $6.03", "2026-05-22 $6.03", "2026-06-03 $8.32"):
        assert cited in text, (cited, text)
    assert "saves +$10,308/month (p10–p90 −$18,786 to +$87,349, a band across zero" in text
    doc = answer.to_dict()
    assert doc["monthly_saving_from_moving_now_p10_p90_usd"] == pytest.approx([low, high])


def test_rank_when_says_a_two_snapshot_trend_has_no_band(capsys: pytest.CaptureFixture[str]) -> None:
    argv = "rank --model llama-3.3-70b --requests-per-s 50 --isl 800 --osl 400 --interactivity 50 --no-pareto"
    assert main([*argv.split(), "--top", "1", "--when", "6"]) == 0
    when = capsys.readouterr().out.split("when: ", 1)[1]
    # The cheapest option is Spheron B200 spot, quoted on 2026-05-22 ($2.12) and 2026-06-03 ($2.68): spheron.toml.
    assert when.startswith("Spheron b200 spot, 2 snapshots (2026-05-22 $2.12/GPU-h, 2026-06-03 $2.68/GPU-h)")
    # 183 days over a 12-day fit is past FORECAST_SPAN_MULTIPLE (3×): the sentence says it is no forecast.
    assert "carried 183 days ahead (15.2× its span; past 3× its span the trend is a direction, not a forecast)" in when
    assert "no band" in when
    assert main([*argv.split(), "--top", "1", "--when", "6", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)["when"]
    # 6 GPUs × $2.68 × 730 h now; no p10–p90 without a residual.
    assert doc["monthly_now_usd"] == pytest.approx(6 * 2.68 * 730, abs=0.01)
    assert doc["monthly_saving_from_moving_now_p10_p90_usd"] is None


@pytest.mark.parametrize(
    ("dof", "expected"),
    # Student's t 90th percentiles from the standard table (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
    [(1, 3.078), (2, 1.886), (3, 1.638), (10, 1.372), (30, 1.310)],
)
def test_student_t_quantile_matches_the_table(dof: int, expected: float) -> None:
    assert student_t_quantile(0.9, dof) == pytest.approx(expected, abs=6e-4)


def test_when_refuses_a_horizon_past_three_years_and_a_trend_that_overflows() -> None:
    """``--when`` beyond MAX_WHEN_MONTHS (36) is refused naming the flag; a trend steep enough to
    multiply the price past e^50 over the horizon is refused rather than printed (fuzzing found a
    traceback at --when 5000 and a 250-digit bill at --when 1000)."""
    import attrs

    from blackwell_decide.errors import UsageError

    (series,) = price_series(get_catalog(), provider="spheron", gpu="b200", tier="on-demand")
    trend = fit_trend(series)
    with pytest.raises(UsageError, match=r"--when must be a number of months from 0 to 36, got 37"):
        when_to_move(trend, gpus=6, months=37, hours_per_month=730)
    for months in (math.inf, math.nan, 1e308):
        with pytest.raises(UsageError, match="--when"):
            when_to_move(trend, gpus=6, months=months, hours_per_month=730)
    # 0.1 per day (about +2,000 % a month) over 36 months = 1,096 days: e^109.6, past e^50.
    steep = attrs.evolve(trend, slope_per_day=0.1)
    with pytest.raises(UsageError, match="changes the price by more than e"):
        when_to_move(steep, gpus=6, months=36, hours_per_month=730)
    # At 36 months the shipped trend is finite: 6 × $8.32 × 730 h × e^(slope × 1,096 days).
    answer = when_to_move(trend, gpus=6, months=36, hours_per_month=730)
    assert answer.monthly_then_usd == pytest.approx(6 * 8.32 * 730 * math.exp(trend.slope_per_day * 1096), rel=1e-9)
