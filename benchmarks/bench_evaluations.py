"""Wall time of 10^6 (configuration × workload) evaluations of the performance model.

    python benchmarks/bench_evaluations.py [--points 1000000] [--repeat 3] [--sample 3000] [--per-point-only]

Configurations: ten deployments (dense and MoE, 4- and 8-bit, TP 1 to 8, NVIDIA and AMD) × the
three engines, each with the calibration profile and engine settings a prediction uses.
Workloads: (input length, output length, concurrency) drawn at random (seeded), every point its
own shape, which is the hardest layout (nothing is shared between points). Prints:

- vectorised: the points of each configuration prepared in one call
  (:func:`~blackwell_decide.perf.physics.shape_step_inputs`) and all 10^6 solved in one call
  (:func:`~blackwell_decide.perf._step_arrays.solve_steps`), ``--repeat`` times, and the best;
- per point: one :func:`~blackwell_decide.perf.physics.simulate` call per point, as the code
  before the vectorisation had to, timed on ``--sample`` points and scaled to the total.

The catalog, the deployments and the profiles are set up before the clocks start. Prints only;
it asserts nothing. ``--per-point-only`` runs only the second part (it runs on older trees too).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from blackwell_decide.perf import Workload, choose_profile, deployment_terms
from blackwell_decide.perf.physics import simulate
from blackwell_decide.perf.profile import serving_profile
from blackwell_decide.plugins import get_catalog
from blackwell_decide.resolve import resolve_deployment

DEPLOYMENTS = (
    ("llama-3.3-70b", "b200", "nvfp4", "fp8", 1),
    ("llama-3.3-70b", "b200", "fp8", "fp8", 2),
    ("llama-3.3-70b", "h100", "fp8", "fp8", 2),
    ("llama-3.3-70b", "h200-sxm", "fp8", "fp8", 1),
    ("llama-3.1-8b", "h100", "fp8", "fp8", 1),
    ("llama-3.1-405b", "b200", "nvfp4", "fp8", 4),
    ("deepseek-v3", "b200", "fp8", "fp8", 8),
    ("gpt-oss-120b", "h100", "mxfp4", "fp8", 1),
    ("llama-3.3-70b", "mi300x", "fp8", "fp8", 1),
    ("qwen3-235b-a22b", "h200-sxm", "fp8", "fp8", 8),
)
ENGINES = ("vllm", "trtllm", "sglang")


def configurations() -> list[tuple[Any, Any]]:
    """(deployment terms, serving profile) for every deployment × engine."""
    catalog = get_catalog()
    out = []
    for model, gpu, weights, kv, tp in DEPLOYMENTS:
        deployment = resolve_deployment(model=model, gpu=gpu, weights=weights, kv=kv, tp=tp, catalog=catalog)
        terms = deployment_terms(deployment)
        for engine in ENGINES:
            chosen = choose_profile(terms, Workload(1024, 1024), engine, deployment=deployment, catalog=catalog)
            out.append((terms, serving_profile(chosen.profile, engine, deployment.memory_fraction, tp, catalog)))
    return out


def workloads(n: int, seed: int = 11) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    isl = rng.integers(64, 8193, n).astype(float)
    osl = rng.integers(64, 4097, n).astype(float)
    concurrency = rng.integers(1, 513, n).astype(float)
    return isl, osl, concurrency


def vectorised(configs: list[tuple[Any, Any]], total: int) -> float:
    from blackwell_decide.perf._step_arrays import StepFigures, concatenate, solve_steps
    from blackwell_decide.perf.physics import shape_step_inputs

    per_config = -(-total // len(configs))
    isl, osl, concurrency = workloads(per_config)
    start = time.perf_counter()
    parts = [shape_step_inputs(terms, profile.engine_settings, isl, osl, concurrency) for terms, profile in configs]
    inputs = concatenate(parts)
    figures = StepFigures.stacked([p for _, p in configs], [part.size for part in parts])
    prepared = time.perf_counter()
    out = solve_steps(inputs, figures)
    done = time.perf_counter()
    assert np.isfinite(out.tpot_s).all() and np.isfinite(out.output_tok_s_per_gpu).all()
    print(
        f"vectorised: {inputs.size:,} points ({len(configs)} configurations x {per_config:,} workloads): "
        f"{done - start:.3f} s wall ({prepared - start:.3f} s preparing, {done - prepared:.3f} s solving)"
    )
    return done - start


def per_point(configs: list[tuple[Any, Any]], total: int, sample: int) -> None:
    isl, osl, concurrency = workloads(sample, seed=12)
    start = time.perf_counter()
    for i in range(sample):
        terms, profile = configs[i % len(configs)]
        simulate(terms, profile, Workload(int(isl[i]), int(osl[i])), np.array([concurrency[i]]))
    elapsed = time.perf_counter() - start
    print(
        f"per point: {sample:,} simulate() calls in {elapsed:.3f} s wall, "
        f"{elapsed / sample * 1e6:.0f} us each: {elapsed / sample * total:.1f} s for {total:,} points"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample", type=int, default=3000)
    parser.add_argument("--per-point-only", action="store_true")
    args = parser.parse_args()
    configs = configurations()
    if not args.per_point_only:
        best = min(vectorised(configs, args.points) for _ in range(args.repeat))
        print(f"vectorised, best of {args.repeat}: {best:.3f} s wall")
    per_point(configs, args.points, args.sample)


if __name__ == "__main__":
    main()
