"""Wall and CPU time of ``validate()`` (every shipped data set against the registered profiles,
with the tensor-parallel cross-validation and the shape hold-out refits), and of the same
without the refits.

Run: ``.venv/bin/python benchmarks/bench_validate.py``. Figures are printed, not asserted.
"""

from __future__ import annotations

import time

from blackwell_decide.perf.validate import validate
from blackwell_decide.plugins import get_catalog


def timed(*, cross_validation: bool) -> tuple[float, float]:
    """(wall, CPU) seconds of one validate() in this process."""
    catalog = get_catalog()  # loaded before the clock starts: the CLI's start-up, not validate's work
    wall, cpu = time.perf_counter(), time.process_time()
    validate(catalog=catalog, cross_validation=cross_validation)
    return time.perf_counter() - wall, time.process_time() - cpu


if __name__ == "__main__":
    wall, cpu = timed(cross_validation=False)
    print(f"validate, scoring only (no refits): {wall:.2f} s wall, {cpu:.2f} s CPU")
    wall, cpu = timed(cross_validation=True)
    print(f"validate, with cross-validation and shape hold-out refits: {wall:.2f} s wall, {cpu:.2f} s CPU")
