"""Wall time of ``rank`` for the article's chat workload, and of 10^6 (configuration × workload)
evaluations of the sizing and bill arithmetic, vectorised.

Run: ``.venv/bin/python benchmarks/bench_rank.py``. Figures are printed, not asserted.
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np

from blackwell_decide.economics.bill import replicas_for
from blackwell_decide.units import HOURS_PER_MONTH


def full_rank_wall_s() -> float:
    """The whole CLI, start-up included, as a user runs it."""
    argv = [sys.executable, "-m", "blackwell_decide", "rank", "--model", "llama-3.3-70b", "--requests-per-s", "50"]
    argv += ["--isl", "800", "--osl", "400", "--interactivity", "50", "--no-pareto", "--top", "5"]
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - start


def arithmetic_wall_s(n: int = 1_000_000, seed: int = 7) -> float:
    """GPUs holding the peak in whole replicas, the always-on bill and the realized $/1M output
    tokens for ``n`` (configuration × workload) pairs at once."""
    rng = np.random.default_rng(seed)
    per_gpu = rng.uniform(100.0, 5000.0, n)  # output tok/s per GPU at the service level
    tp = rng.choice(np.array([1.0, 2.0, 4.0, 8.0]), n)
    price = rng.uniform(1.0, 8.0, n)  # USD per GPU-hour
    demand = rng.uniform(1e3, 1e6, n)  # peak output tok/s
    start = time.perf_counter()
    gpus = replicas_for(demand, per_gpu, tp)
    monthly = gpus * price * HOURS_PER_MONTH
    realized = monthly / (demand * HOURS_PER_MONTH * 3600.0) * 1e6
    order = np.argsort(monthly, kind="stable")
    elapsed = time.perf_counter() - start
    assert np.isfinite(realized[order]).all()
    return elapsed


if __name__ == "__main__":
    print(f"rank, built-in catalog, Llama 3.3 70B at 50 req/s 800/400 50 tok/s/user: {full_rank_wall_s():.2f} s wall")
    print(f"10^6 (configuration x workload) sizing + bill evaluations: {arithmetic_wall_s():.3f} s wall")
