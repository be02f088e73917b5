"""A traffic mix sized as the mix (economics.mix), not as one request of the mean shape.

The mix is the brief's example: 70 % chat (800 in, 400 out) and 30 % long documents (8,000 in,
1,000 out) at 50 requests/s and 50 tok/s per user, on B200 NVFP4 at Spheron's spot price.
Expected figures are worked from each class ranked on its own (the same operating points).
"""

from __future__ import annotations

import json

import pytest

from blackwell_decide.cli import main
from blackwell_decide.economics.fleet import Traffic
from blackwell_decide.economics.mix import MixClass, TrafficMix, kv_equivalent_tok_s_per_user, parse_mix_class
from blackwell_decide.economics.rank import RankedOption, Ranking, rank_market
from blackwell_decide.errors import UsageError
from blackwell_decide.plugins import Catalog, get_catalog
from blackwell_decide.resolve import resolve_model

CLASSES = (MixClass(0.7, 800, 400), MixClass(0.3, 8000, 1000))
MIX = TrafficMix(50.0, CLASSES)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return get_catalog()


def _rank(catalog: Catalog, traffic: Traffic | TrafficMix) -> Ranking:
    arch = resolve_model(catalog, "llama-3.3-70b")
    return rank_market(catalog, arch, traffic, 50.0, gpus=["b200"])


def _b200(ranking: Ranking) -> RankedOption:
    return next(
        o
        for o in ranking.options
        if (o.weights, o.kv, o.tp, o.provider, o.tier) == ("nvfp4", "fp8", 1, "Spheron", "spot")
    )


def test_a_one_class_mix_is_the_plain_traffic(catalog: Catalog) -> None:
    plain = _rank(catalog, Traffic(50, 800, 400))
    mixed = _rank(catalog, TrafficMix(50.0, (MixClass(1.0, 800, 400),)))
    assert [(o.gpu, o.weights, o.kv, o.tp, o.gpus, o.usd_per_month) for o in mixed.options] == [
        (o.gpu, o.weights, o.kv, o.tp, o.gpus, o.usd_per_month) for o in plain.options
    ]


def test_the_mix_is_served_at_each_class_point_not_the_mean_shape(catalog: Catalog) -> None:
    per_class = [_b200(_rank(catalog, MIX.class_traffic(i))) for i in range(2)]
    out = [MIX.class_traffic(i).output_tok_s for i in range(2)]  # 14,000 and 15,000 output tok/s
    assert out == pytest.approx([50 * 0.7 * 400, 50 * 0.3 * 1000])
    gpu_seconds = sum(o / c.output_tok_s_per_gpu for o, c in zip(out, per_class, strict=True))
    mixed = _b200(_rank(catalog, MIX))
    # Output-weighted harmonic mean: 29,000 tok/s over the GPU-seconds both classes take.
    assert mixed.output_tok_s_per_gpu == pytest.approx(sum(out) / gpu_seconds, rel=1e-12)
    assert mixed.gpus >= -(-gpu_seconds // 1)
    mean = _b200(_rank(catalog, MIX.mean))  # 2,960 in + 580 out: the average shape
    assert (MIX.mean.isl, MIX.mean.osl) == pytest.approx((0.7 * 800 + 0.3 * 8000, 0.7 * 400 + 0.3 * 1000))
    # The long class is slower per GPU than the mean shape suggests, so the mix needs more GPUs.
    assert mixed.output_tok_s_per_gpu < mean.output_tok_s_per_gpu
    assert mixed.gpus > mean.gpus


def test_kv_is_counted_per_class() -> None:
    # 35 req/s × 400 / 50 tok/s × 1,200 + 15 req/s × 1,000 / 40 tok/s × 9,000 = 3,711,000 tokens;
    # the mean shape (580 out, 3,540 long) holds as much at 50 × 580 × 3,540 / 3,711,000 tok/s.
    speed = kv_equivalent_tok_s_per_user(MIX, [50.0, 40.0])
    assert speed == pytest.approx(50 * 580 * 3540 / 3_711_000, rel=1e-12)


def test_bad_mixes_say_how_to_fix_them() -> None:
    with pytest.raises(UsageError, match="SHARE:INPUT_TOKENS:OUTPUT_TOKENS"):
        parse_mix_class("0.7:800")
    # a well-formed class with a value out of range names that value, not the format (review finding f)
    with pytest.raises(UsageError, match=r"^--mix '1:0:400': input tokens must be a positive number, got 0$"):
        parse_mix_class("1:0:400")
    with pytest.raises(UsageError, match=r"^--mix '1:800:0': output tokens must be a positive number, got 0$"):
        parse_mix_class("1:800:0")
    with pytest.raises(UsageError, match=r"^--mix '2:800:400': .*share of the requests.*got 2.0$"):
        parse_mix_class("2:800:400")
    with pytest.raises(UsageError, match=r"add up to 0.9 \(0.6 \+ 0.3\), not 1"):
        TrafficMix(50.0, (MixClass(0.6, 800, 400), MixClass(0.3, 8000, 1000)))


def test_cli_mix(capsys: pytest.CaptureFixture[str]) -> None:
    argv = "rank --model llama-3.3-70b --requests-per-s 50 --mix 0.7:800:400 --mix 0.3:8000:1000"
    argv += " --interactivity 50 --gpu b200 --no-pareto --json"
    assert main(argv.split()) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [c["share"] for c in doc["traffic"]["mix"]] == [0.7, 0.3]
    assert doc["traffic"]["isl"] == pytest.approx(2960)
    assert main([*argv.split(), "--isl", "800"]) == 2
    assert "not both" in capsys.readouterr().err


def test_a_mix_of_more_than_32_classes_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """Fuzzing: 200 classes made `rank` run for 67 s (each class is solved for every option)."""
    mix = [arg for i in range(33) for arg in ("--mix", f"{1 / 33!r}:{100 + 50 * i}:{50 + 10 * i}")]
    argv = ["rank", "--model", "llama-3.3-70b", "--requests-per-s", "50", "--interactivity", "20", *mix]
    assert main(argv) == 2
    assert "a traffic mix of 33 classes; give at most 32" in capsys.readouterr().err
