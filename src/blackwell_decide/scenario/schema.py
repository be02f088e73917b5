"""The scenario schema: every section and key, its kind, unit, example and help text.

``docs/scenario-schema.md`` documents these keys; the reader (:mod:`blackwell_decide.input_schema`)
checks values against them."""

from __future__ import annotations

from collections.abc import Mapping

from blackwell_decide.input_schema import Key
from blackwell_decide.model import validators as v
from blackwell_decide.scenario.spec import DEFAULT_OVERLAP_MONTHS

#: Everyday words for the two ownerships.
_OWNERSHIP_ALIASES = (
    ("on-premises", "owned"),
    ("on-prem", "owned"),
    ("own", "owned"),
    ("cloud", "rented"),
    ("rent", "rented"),
)

#: The engine-memory and serving-feature keys a fleet and a candidate share (bounds.kv_room, perf.serving).
_SERVING_KEYS: Mapping[str, Key] = {
    "memory_fraction": Key(
        "fraction",
        "the engine's memory fraction that sizes the KV room (vLLM gpu_memory_utilization, TensorRT-LLM "
        "kv_cache_free_gpu_mem_fraction, SGLang mem_fraction_static; default: the engine's shipped default)",
        "0.9",
        unit="fraction",
    ),
    "speculative": Key(
        "choice",
        "speculative decoding's drafter (default: none): eagle, mtp, draft-model or ngram",
        '"eagle"',
        choices=("eagle", "mtp", "draft-model", "ngram"),
    ),
    "acceptance_length": Key(
        "number",
        "with speculative: mean tokens emitted per verified step, the bonus token included (measured on your "
        "traffic; 1 to draft_tokens + 1)",
        "2.5",
        unit="tokens per step",
        positive=True,
        maximum=64,
    ),
    "draft_tokens": Key("int", "with speculative: tokens drafted per step (default 3)", "3", positive=True, maximum=64),
    "draft_cost": Key(
        "number",
        "with speculative: time to draft one token as a fraction of a decode step (default: from the "
        "architecture; required for draft-model)",
        "0.015",
        unit="fraction of a step",
        minimum=0,
        maximum=10,
    ),
}

SCHEMA: Mapping[str, Mapping[str, Key]] = {
    "scenario": {
        "name": Key("str", "title of the memo", '"Chat fleet, H100 to B200"', required=True),
        "description": Key("str", "a sentence or two on the fleet and the question", '"..."'),
        "model": Key("str", "model key from `blackwell-decide catalog models`", '"llama-3.3-70b"'),
        "model_config": Key(
            "path", "a Hugging Face config.json (relative to this file) instead of model", '"config.json"'
        ),
        "as_of": Key("date", "the date the decision is made on (default: today, or decide/memo --as-of)", "2026-05-22"),
    },
    "current": {
        "gpu": Key("str", "accelerator key from `blackwell-decide catalog accelerators`", '"h100-sxm"', required=True),
        "count": Key("int", "GPUs in service", "16", unit="GPUs", required=True, positive=True, maximum=v.MAX_GPUS),
        "weights": Key("str", "weight number format", '"fp8"', required=True),
        "kv": Key("str", "KV-cache number format (default: fp8 for 4-bit weights, else the weights')", '"fp8"'),
        "tp": Key("int", "tensor-parallel size of one replica", "1", unit="GPUs", positive=True, maximum=1024),
        "engine": Key("str", "serving engine", '"vllm"'),
        "engine_version": Key("str", "serving engine release", '"0.12.0"'),
        **_SERVING_KEYS,
        "ownership": Key(
            "choice",
            "rented (cloud) or owned (on the premises in [facility])",
            '"rented"',
            required=True,
            choices=("rented", "owned"),
            aliases=_OWNERSHIP_ALIASES,
        ),
        "contract_end": Key("date", "end of the rental commitment, or of depreciation when owned", "2026-09-30"),
        "price_tier": Key("str", "price tier paid for this fleet (default: prices.tier)", '"reserved-1y"'),
        "usd_per_gpu_hour": Key(
            "number",
            "the price actually paid, overriding the snapshot",
            "2.64",
            unit="USD per GPU-hour",
            minimum=0,
            maximum=v.MAX_USD_PER_GPU_HOUR,
        ),
        "marginal_usd_per_gpu_hour": Key(
            "number",
            "owned fleets: what keeping one GPU running costs (default: power and hosting from [facility])",
            "0.35",
            unit="USD per GPU-hour",
            minimum=0,
            maximum=v.MAX_USD_PER_GPU_HOUR,
        ),
    },
    "candidates": {
        "name": Key("str", "label in the memo (default: gpu and weights)", '"B200 NVFP4"'),
        "gpu": Key("str", "accelerator key", '"b200"', required=True),
        "weights": Key("str", "weight number format", '"nvfp4"', required=True),
        "kv": Key("str", "KV-cache number format", '"fp8"'),
        "tp": Key(
            "int",
            "tensor-parallel size (default: the smallest that fits and meets the service level)",
            "1",
            unit="GPUs",
            positive=True,
            maximum=1024,
        ),
        "engine": Key("str", "serving engine", '"vllm"'),
        **_SERVING_KEYS,
        "ownership": Key(
            "choice", "rented (default) or owned", '"rented"', choices=("rented", "owned"), aliases=_OWNERSHIP_ALIASES
        ),
        "price_tier": Key("str", "price tier for this candidate (default: prices.tier)", '"spot"'),
        "usd_per_gpu_hour": Key(
            "number",
            "an explicit price instead of the snapshot's",
            "6.03",
            unit="USD per GPU-hour",
            minimum=0,
            maximum=v.MAX_USD_PER_GPU_HOUR,
        ),
        "capex_usd_per_gpu": Key(
            "number",
            "owned: purchase price per GPU, with its share of the server",
            "45000",
            unit="USD",
            minimum=0,
            maximum=1e8,
        ),
        "depreciation_years": Key(
            "number",
            "owned: years the purchase is written off over",
            "4",
            unit="years",
            positive=True,
            minimum=0.25,
            maximum=30,
        ),
    },
    "workload": {
        "peak_requests_per_s": Key(
            "number",
            "requests per second at the daily peak",
            "50",
            unit="requests per second",
            required=True,
            # one request in ~11.6 days; below it the cost per token overflows
            minimum=v.MIN_REQUESTS_PER_S,
            maximum=v.MAX_REQUESTS_PER_S,
        ),
        "average_requests_per_s": Key(
            "number",
            "average requests per second (default: the peak)",
            "25",
            unit="requests per second",
            minimum=v.MIN_REQUESTS_PER_S,
            maximum=v.MAX_REQUESTS_PER_S,
        ),
        "input_tokens": Key(
            "number",
            "mean prompt tokens per request (or give [[workload.mix]])",
            "800",
            unit="tokens",
            minimum=1,
            maximum=v.MAX_TOKENS,
        ),
        "output_tokens": Key(
            "number", "mean generated tokens per request", "400", unit="tokens", minimum=1, maximum=v.MAX_TOKENS
        ),
        "mix": Key("list", "traffic classes: [[workload.mix]] share, input_tokens, output_tokens", "(table)"),
        "min_tokens_per_s_per_user": Key(
            "number",
            "interactivity target: tokens per second each user sees",
            "50",
            unit="tokens per second per user",
            positive=True,
            maximum=1e6,
        ),
        "max_tpot_ms": Key(
            "number",
            "or: the longest acceptable time per output token",
            "20",
            unit="milliseconds",
            positive=True,
            maximum=1e6,
        ),
        "max_ttft_ms": Key(
            "number",
            "the longest acceptable time to first token",
            "2000",
            unit="milliseconds",
            positive=True,
            maximum=1e9,
        ),
        "prefix_cache_hit_rate": Key(
            "fraction",
            "share of each prompt's tokens found in the engine's prefix cache (default 0): only the rest is prefilled",
            "0.5",
            unit="fraction of prompt tokens",
        ),
        "autoscale": Key(
            "bool",
            "rented fleets scale with the traffic: billed for the replicas the average needs, not the peak "
            "(default false: always on, sized for the peak)",
            "true",
        ),
        "min_replicas": Key(
            "int",
            "autoscaled fleets never scale below this many replicas (default 1)",
            "2",
            unit="replicas",
            positive=True,
            maximum=v.MAX_GPUS,
        ),
        "max_context_tokens": Key(
            "number",
            "the longest context one request must be able to hold (the service's "
            "context window); a replica whose KV room is smaller is not an option",
            "131072",
            unit="tokens",
            positive=True,
            minimum=1,
            maximum=v.MAX_TOKENS,
        ),
    },
    "workload.mix": {
        "share": Key(
            "number",
            "fraction of requests in this class (shares add up to 1)",
            "0.7",
            unit="fraction",
            required=True,
            positive=True,
        ),
        "input_tokens": Key(
            "number", "prompt tokens", "800", unit="tokens", required=True, minimum=1, maximum=v.MAX_TOKENS
        ),
        "output_tokens": Key(
            "number", "generated tokens", "400", unit="tokens", required=True, minimum=1, maximum=v.MAX_TOKENS
        ),
    },
    "prices": {
        "snapshot": Key(
            "str",
            "price snapshot from `blackwell-decide catalog prices`: provider@date, or a provider alone for its newest "
            "snapshot on or before the decision date",
            '"spheron@2026-05-22"',
        ),
        "tier": Key("str", "tier compared on both sides (on-demand, spot, reserved-1y, ...)", '"on-demand"'),
        "file": Key(
            "path",
            "a private price file (relative to this file), used instead of or beside the snapshot",
            '"rates.toml"',
        ),
    },
    "facility": {
        "cooling": Key("choice", "how the racks are cooled", '"air"', required=True, choices=("air", "liquid")),
        "rack_power_kw": Key(
            "number", "power available per rack", "40", unit="kW", required=True, positive=True, maximum=10000
        ),
        "gpus_per_server": Key(
            "int", "GPUs per server (an HGX board holds 8)", "8", unit="GPUs", positive=True, maximum=1024
        ),
        "server_overhead": Key(
            "number",
            "server power beyond the GPUs (CPUs, NICs, fans) as a fraction of GPU power (default: the GPU's "
            "reference system, e.g. DGX H100 0.82)",
            "0.5",
            unit="fraction of GPU power",
            minimum=0,
            maximum=10,
        ),
        "usd_per_kwh": Key("number", "electricity price", "0.12", unit="USD per kWh", minimum=0, maximum=100),
        "pue": Key(
            "number",
            "power usage effectiveness (facility power / IT power; default 1.56, the Uptime Institute 2024 "
            "survey average)",
            "1.3",
            unit="ratio",
            minimum=1,
            maximum=10,
        ),
        "hosting_usd_per_gpu_month": Key(
            "number",
            "space, cooling plant and operations per GPU",
            "150",
            unit="USD per GPU-month",
            minimum=0,
            maximum=1e7,
        ),
    },
    "constraints": {
        "min_accuracy_recovery": Key(
            "fraction",
            "accuracy the quantised model must keep, as a fraction of BF16",
            "0.99",
            unit="fraction (0.99 = 99 %)",
        ),
        "serving_stack": Key("str", "engine the candidate must run on (vllm, trtllm, sglang)", '"vllm"'),
        "serving_stack_version": Key("str", "the engine release you can deploy", '"0.12.0"'),
        "nvfp4_supported": Key("bool", "override: does your stack serve NVFP4 on the candidate?", "false"),
    },
    "migration": {
        "engineering_usd": Key(
            "number", "engineering time to port and tune", "40000", unit="USD", minimum=0, maximum=v.MAX_USD
        ),
        "overlap_months": Key(
            "number",
            "months both fleets run (and are paid for) while traffic moves over; counted in the payback "
            f"(default {DEFAULT_OVERLAP_MONTHS:g})",
            "1",
            unit="months",
            minimum=0,
            maximum=120,
        ),
        "requalification_usd": Key(
            "number",
            "evaluation and re-qualification of the quantised model",
            "15000",
            unit="USD",
            minimum=0,
            maximum=v.MAX_USD,
        ),
        "infrastructure_usd": Key(
            "number",
            "facility work (power, cooling) and other one-time spend",
            "0",
            unit="USD",
            minimum=0,
            maximum=v.MAX_USD,
        ),
    },
    "thresholds": {
        "min_savings_fraction": Key(
            "fraction", "saving below which a migration is a hold", "0.15", unit="fraction of today's monthly cost"
        ),
        "max_payback_months": Key(
            "number",
            "longest acceptable payback of the one-time costs",
            "12",
            unit="months",
            positive=True,
            maximum=1200,
        ),
        "prefill_share": Key(
            "fraction",
            "share of the current fleet's GPU time prefill takes from which traffic is prefill-heavy (default 0.2)",
            "0.2",
            unit="fraction of GPU time",
        ),
        "newer_fleet_kv_share": Key(
            "fraction", "share of the candidate's KV room the current GPU already has", "0.3", unit="fraction"
        ),
        "fleet_mismatch_fraction": Key(
            "fraction",
            "difference between the declared count and the modelled fleet beyond which the memo flags it",
            "0.25",
            unit="fraction of the modelled fleet",
        ),
    },
}

REQUIRED_SECTIONS = ("scenario", "current", "candidates", "workload")
