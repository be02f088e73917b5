"""A traffic mix: requests of several shapes (share, input length, output length) arriving
together, sized as the mix rather than as one request of the mean shape.

Per GPU, a deployment serves each class at its own operating point (a long prompt is slower per
GPU than a short one). The fleet needs, each second, ``Σ R_out,c / X_c`` GPU-equivalents of
decode, so the mix's throughput per GPU is the output-weighted harmonic mean of the classes'
(:func:`mix_throughput`), never the throughput at the mean lengths. Requests in flight are
counted per class too (Little's law: each class's rate × its decode time × its length in KV).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs

from blackwell_decide.economics.fleet import Traffic
from blackwell_decide.errors import UsageError
from blackwell_decide.model import validators as v

__all__ = ["MixClass", "TrafficMix", "kv_equivalent_tok_s_per_user", "mix_throughput", "parse_mix_class"]

#: How far the shares may miss 1 (rounding in a hand-written mix such as 0.33/0.33/0.34 is exact).
SHARE_TOLERANCE = 1e-6


@attrs.frozen
class MixClass:
    """``share`` of the requests, each ``isl`` tokens in and ``osl`` out."""

    share: float = attrs.field(validator=v.in_range(low=1e-9, high=1.0, name="share of the requests"))
    isl: float = attrs.field(validator=v.positive(v.MAX_TOKENS, unit="tokens per request", name="input length"))
    osl: float = attrs.field(validator=v.positive(v.MAX_TOKENS, unit="tokens per request", name="output length"))

    def to_dict(self) -> dict[str, Any]:
        return {"share": self.share, "isl": self.isl, "osl": self.osl}


def parse_mix_class(text: str) -> MixClass:
    """``SHARE:ISL:OSL`` (``0.7:800:400``) as a :class:`MixClass`."""
    parts = text.split(":")
    try:
        if len(parts) != 3:
            raise ValueError
        share, isl, osl = (float(p) for p in parts)
    except ValueError:
        raise UsageError(
            f"--mix {text!r}: give SHARE:INPUT_TOKENS:OUTPUT_TOKENS, e.g. --mix 0.7:800:400 --mix 0.3:8000:1000"
        ) from None
    # Out of the try: a well-formed class with a value out of range says which value, not the format.
    for name, value in (("the share", share), ("input tokens", isl), ("output tokens", osl)):
        if not (math.isfinite(value) and value > 0):
            raise UsageError(f"--mix {text!r}: {name} must be a positive number, got {value:g}")
    try:
        return MixClass(share, isl, osl)
    except ValueError as exc:
        raise UsageError(f"--mix {text!r}: {exc}") from None


#: Each class is solved at its own operating point for every option: 200 classes made `rank`
#: run for a minute. Traffic is described by a handful of shapes; 32 is far past any real mix.
MAX_MIX_CLASSES = 32


def _check_classes(instance: Any, attribute: Any, value: tuple[MixClass, ...]) -> None:
    if not isinstance(value, tuple) or not all(isinstance(c, MixClass) for c in value):
        raise UsageError("a traffic mix's classes must be a tuple of MixClass (share, input, output)")
    if not value:
        raise UsageError("a traffic mix needs at least one class (SHARE:INPUT_TOKENS:OUTPUT_TOKENS)")
    if len(value) > MAX_MIX_CLASSES:
        raise UsageError(
            f"a traffic mix of {len(value)} classes; give at most {MAX_MIX_CLASSES}, merging classes of similar "
            "lengths (each class is sized at its own operating point for every option)"
        )
    total = sum(c.share for c in value)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        shares = " + ".join(f"{c.share:g}" for c in value)
        raise UsageError(f"the traffic mix's shares add up to {total:g} ({shares}), not 1; scale them to sum to 1")


@attrs.frozen
class TrafficMix:
    """``requests_per_s`` at peak, split over ``classes``."""

    requests_per_s: float = attrs.field(
        validator=v.positive(v.MAX_REQUESTS_PER_S, unit="requests/s", name="requests per second")
    )
    classes: tuple[MixClass, ...] = attrs.field(validator=_check_classes)
    peak_to_average: float = 1.0

    @classmethod
    def of(cls, traffic: Traffic) -> TrafficMix:
        return cls(traffic.requests_per_s, (MixClass(1.0, traffic.isl, traffic.osl),), traffic.peak_to_average)

    @property
    def single(self) -> bool:
        return len(self.classes) == 1

    @property
    def mean(self) -> Traffic:
        """The traffic at the mean lengths: the same token rates, so the same bill's averages."""
        if self.single:
            c = self.classes[0]
            return Traffic(self.requests_per_s, c.isl, c.osl, self.peak_to_average)
        isl = sum(c.share * c.isl for c in self.classes)
        osl = sum(c.share * c.osl for c in self.classes)
        return Traffic(self.requests_per_s, isl, osl, self.peak_to_average)

    def class_traffic(self, index: int) -> Traffic:
        c = self.classes[index]
        return Traffic(self.requests_per_s * c.share, c.isl, c.osl, self.peak_to_average)

    def to_dict(self) -> dict[str, Any]:
        return {**self.mean.to_dict(), "mix": [c.to_dict() for c in self.classes]}


def mix_throughput(mix: TrafficMix, per_gpu: Sequence[float]) -> float:
    """Output tok/s per GPU over the mix: total output over the GPU-seconds each class's output
    takes at its own per-GPU rate (an output-weighted harmonic mean)."""
    if mix.single:
        return float(per_gpu[0])
    out = [mix.class_traffic(i).output_tok_s for i in range(len(mix.classes))]
    return sum(out) / sum(o / x for o, x in zip(out, per_gpu, strict=True))


def kv_equivalent_tok_s_per_user(mix: TrafficMix, tok_s_per_user: Sequence[float]) -> float:
    """The one tokens/s per user at which the mean-shape KV check (requests/s × osl ÷ speed ×
    (isl + osl)) holds exactly the KV tokens the classes hold together, each in flight for its
    own decode time at its own length; so :func:`size_fleet` sizes KV for the mix."""
    if mix.single:
        return float(tok_s_per_user[0])
    needed = sum(
        t.requests_per_s * t.osl / speed * (t.isl + t.osl)
        for t, speed in zip((mix.class_traffic(i) for i in range(len(mix.classes))), tok_s_per_user, strict=True)
    )
    mean = mix.mean
    return mean.requests_per_s * mean.osl * (mean.isl + mean.osl) / needed
