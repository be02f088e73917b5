"""Time `blackwell-decide predict --from-csv` on 300 queries, the way a user runs it.

    python benchmarks/bench_predict.py [--queries 300] [--repeat 3]

Writes a query CSV (several models, GPUs, formats, TP sizes, all three engines, concurrencies
from 1 to 512 and some `max` rows), then runs the command in a fresh interpreter each time and
prints the wall time of every run and the best, plus the in-process time of the library call
alone. Prints only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
SHAPES = ((1024, 1024), (1024, 8192), (8192, 1024), (128, 2048), (5000, 500))


def write_queries(path: Path, count: int) -> None:
    lines = ["model,gpu,weights,kv,tp,engine,isl,osl,concurrency"]
    for i in range(count):
        model, gpu, weights, kv, tp = DEPLOYMENTS[i % len(DEPLOYMENTS)]
        engine = ("vllm", "trtllm", "sglang")[(i // len(DEPLOYMENTS)) % 3]
        isl, osl = SHAPES[(i // 3) % len(SHAPES)]
        concurrency = "max" if i % 20 == 0 else str(2 ** (i % 10))
        lines.append(f"{model},{gpu},{weights},{kv},{tp},{engine},{isl},{osl},{concurrency}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        queries = Path(tmp) / "queries.csv"
        write_queries(queries, args.queries)
        walls = []
        for attempt in range(1, args.repeat + 1):
            start = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "blackwell_decide", "predict", "--from-csv", str(queries)],
                capture_output=True,
                text=True,
                check=False,
            )
            wall = time.perf_counter() - start
            walls.append(wall)
            answered = len(result.stdout.splitlines())
            print(f"run {attempt}: {wall:6.2f} s for {answered} answers (exit {result.returncode})")
            if result.returncode:
                print(result.stderr, file=sys.stderr)
                return
        print(
            f"best: {min(walls):.2f} s for {args.queries} queries in one process "
            f"({min(walls) / args.queries * 1e3:.1f} ms per query, interpreter start and catalog load included)"
        )

        from blackwell_decide.perf.batch import answer, read_queries
        from blackwell_decide.plugins import get_catalog

        catalog = get_catalog()
        parsed = read_queries(queries)
        start = time.perf_counter()
        answer(parsed, catalog=catalog)
        print(f"library call alone (catalog loaded): {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
