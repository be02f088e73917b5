"""The measurement that settles a verdict the model cannot: the benchmark run at an option's
operating point, and the `check-bench` call that reads it against the bounds and the model."""

from __future__ import annotations

import json
import math
import shlex
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from blackwell_decide.rules.facts import Facts
    from blackwell_decide.rules.option_facts import OptionFacts

__all__ = ["Measurement", "measurement_for"]

#: Prompts per request in flight, so the run reaches steady state (at least MIN_PROMPTS).
PROMPTS_PER_SLOT = 10
MIN_PROMPTS = 200


@attrs.frozen
class Measurement:
    """Three commands: serve the deployment, benchmark it at the operating point, check the result."""

    option: str
    label: str
    serve: str
    bench: str
    check: str

    @property
    def commands(self) -> tuple[str, str, str]:
        return (self.serve, self.bench, self.check)

    def to_dict(self) -> dict[str, str]:
        return {
            "option": self.option,
            "label": self.label,
            "serve": self.serve,
            "bench": self.bench,
            "check": self.check,
        }


def measurement_for(facts: Facts, option: OptionFacts) -> Measurement | None:
    """The `vllm serve` / `vllm bench serve` / `check-bench` commands at ``option``'s operating
    point: the scenario's mean lengths and the concurrency per replica the model runs it at
    (None without an operating point). A traffic mix is benchmarked at the class that takes the
    most GPU time, at its own lengths and concurrency: the point whose binding limit speaks for
    the mix (a bench at the mean lengths would test a request shape nobody sends)."""
    service = option.service
    if service is None:
        return None
    heaviest = next((p for p in service.classes if p.prediction is service.prediction), None)
    concurrency = max(math.ceil((heaviest or service).concurrency), 1)
    if heaviest is not None:
        isl, osl = heaviest.prediction.workload.isl, heaviest.prediction.workload.osl
    else:
        isl, osl = round(facts.traffic.isl), round(facts.traffic.osl)
    result = f"{option.accelerator}-{option.weights}-tp{option.tp}-c{concurrency}.json"
    serve = _serve(facts, option)
    bench = _bench(facts.model.hf_id, str(isl), str(osl), concurrency, result)
    return Measurement(option.id, option.label, serve, bench, _check(facts, option, result))


def _serve(facts: Facts, option: OptionFacts) -> str:
    """`vllm serve` for the option: its TP, KV format, memory fraction and speculative decoding."""
    kv = option.deployment.scheme.kv_cache.key
    extra: list[str] = []
    if option.deployment.memory_fraction is not None:
        extra += ["--gpu-memory-utilization", f"{option.deployment.memory_fraction:g}"]
    spec = getattr(option.features, "speculative", None)
    if spec is not None:
        # vLLM's speculative config; an EAGLE head or draft model is named by the user (their checkpoint).
        config = {"method": spec.kind, "num_speculative_tokens": spec.draft_tokens}
        if spec.kind in ("eagle", "draft-model"):
            config["model"] = "YOUR_DRAFT_CHECKPOINT"
        extra += ["--speculative-config", json.dumps(config, sort_keys=True)]
    fp8_kv = ["--kv-cache-dtype", "fp8"] if kv.startswith("fp8") else []
    return shlex.join(["vllm", "serve", facts.model.hf_id, "--tensor-parallel-size", str(option.tp), *fp8_kv, *extra])


def _bench(hf_id: str, isl: str, osl: str, concurrency: int, result: str) -> str:
    """`vllm bench serve` at the operating point, enough prompts to reach steady state."""
    prompts = max(PROMPTS_PER_SLOT * concurrency, MIN_PROMPTS)
    return shlex.join(
        [
            *("vllm", "bench", "serve", "--model", hf_id, "--dataset-name", "random"),
            *("--random-input-len", isl, "--random-output-len", osl, "--ignore-eos"),
            *("--max-concurrency", str(concurrency), "--num-prompts", str(prompts)),
            *("--save-result", "--result-filename", result),
        ]
    )


def _check(facts: Facts, option: OptionFacts, result: str) -> str:
    """`check-bench` reading the result against the option's deployment."""
    return shlex.join(
        [
            *("blackwell-decide", "check-bench", result, "--model", facts.model.key),
            *("--gpu", option.accelerator, "--weights", option.weights),
            *("--kv", option.deployment.scheme.kv_cache.key, "--tp", str(option.tp), "--engine", option.engine),
        ]
    )
