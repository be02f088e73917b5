"""The serving flags several commands share: the engine, speculative decoding and prefix caching."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

from blackwell_decide.cli._common import positive_float, positive_int
from blackwell_decide.errors import UsageError


class _EngineChoices:
    """The keys of the registered engines (a plugin's engine is a valid ``--engine``), read from
    the catalog only when argparse checks a value or prints the choices, so building the
    parser builds no catalog (the flags give a ``metavar``: argparse would otherwise list the
    choices while the parser is built)."""

    def _keys(self) -> list[str]:
        from blackwell_decide.plugins import get_catalog

        return get_catalog().engines.keys()

    def __contains__(self, value: object) -> bool:
        return value in self._keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())


ENGINE_CHOICES = _EngineChoices()
DRAFT_CHOICES = ("eagle", "mtp", "draft-model", "ngram")


def add_serving_flags(p: argparse.ArgumentParser) -> None:
    """Speculative decoding and prefix caching flags (predict, fleet)."""
    g = p.add_argument_group("serving features (default: off, as the shipped measurements ran)")
    g.add_argument("--draft", choices=DRAFT_CHOICES, help="speculative decoding with this drafter")
    g.add_argument(
        "--acceptance-length",
        type=positive_float,
        metavar="TOKENS",
        help="mean tokens emitted per verified step, the bonus token included (needs --draft)",
    )
    g.add_argument("--draft-tokens", type=positive_int, default=3, metavar="K", help="tokens drafted per step (3)")
    g.add_argument(
        "--draft-cost",
        type=float,
        metavar="FRACTION",
        help="time to draft one token as a fraction of a plain decode step (default: from the architecture; "
        "required for --draft draft-model, e.g. 0.015 for a 1B draft of a 70B model)",
    )
    g.add_argument(
        "--prefix-cache-hit-rate",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="share of prompt tokens found in the prefix cache and not prefilled (0 to <1)",
    )


def serving_features(args: argparse.Namespace) -> Any:
    """The :class:`~blackwell_decide.perf.serving.ServingFeatures` the flags ask for (None: off)."""
    from blackwell_decide.perf.serving import ServingFeatures, SpeculativeDecoding

    draft = getattr(args, "draft", None)
    acceptance = getattr(args, "acceptance_length", None)
    hit = getattr(args, "prefix_cache_hit_rate", 0.0) or 0.0
    if draft is None and acceptance is not None:
        raise UsageError("--acceptance-length needs --draft KIND (eagle, mtp, draft-model or ngram)")
    speculative = None
    if draft is not None:
        if acceptance is None:
            raise UsageError(f"--draft {draft} needs --acceptance-length TOKENS (mean tokens per verified step)")
        speculative = SpeculativeDecoding(draft, acceptance, args.draft_tokens, args.draft_cost)
    features = ServingFeatures(speculative, hit)
    return features if features.active else None
