"""The measured operating point every reader produces and calibration, validation and
``check-bench`` consume."""

from __future__ import annotations

import attrs

from blackwell_decide.model import Source
from blackwell_decide.perf.workload import Workload


@attrs.frozen
class Measurement:
    """One measured operating point.

    ``isl``/``osl`` are the nominal lengths the benchmark was asked for; ``mean_isl``/``mean_osl``
    the mean lengths it actually sent (benchmarks often draw lengths around the nominal one).
    ``concurrency`` is the mean number of requests in flight (a client count, or Little's law on a
    rate-driven run: ``concurrency_basis`` says which), or None for an offline run where every
    request was queued at once (maximum throughput). ``output_tok_s`` is output tokens/s over
    all ``num_gpus`` GPUs (``tp`` × ``pp`` decode GPUs plus ``prefill_gpus`` in a disaggregated
    run); ``throughput_derived`` marks a value computed from concurrency and TPOT rather than
    measured.
    """

    dataset: str
    row: int
    model: str
    gpu: str
    engine: str
    weights: str
    kv: str
    tp: int
    isl: int
    osl: int
    concurrency: float | None
    tpot_s: float | None = None
    ttft_s: float | None = None
    output_tok_s: float | None = None
    throughput_derived: bool = False
    mean_isl: float = attrs.field(default=attrs.Factory(lambda m: float(m.isl), takes_self=True))
    mean_osl: float = attrs.field(default=attrs.Factory(lambda m: float(m.osl), takes_self=True))
    num_gpus: int = attrs.field(default=attrs.Factory(lambda m: m.tp, takes_self=True))
    ids: tuple[str, ...] = ()
    source: Source | None = None
    note: str = ""
    pp: int = 1
    prefill_gpus: int = 0
    concurrency_basis: str = ""
    #: The workload with the lengths actually sent, computed once from ``mean_isl``/``mean_osl``
    #: (fits and validation read it hundreds of thousands of times).
    workload: Workload = attrs.field(
        init=False,
        eq=False,
        repr=False,
        default=attrs.Factory(
            lambda m: Workload(max(1, round(m.mean_isl)), max(1, round(m.mean_osl))), takes_self=True
        ),
    )

    @property
    def output_tok_s_per_gpu(self) -> float | None:
        return None if self.output_tok_s is None else self.output_tok_s / self.num_gpus

    @property
    def deployment_key(self) -> tuple[str, str, str, str, int]:
        return (self.model, self.gpu, self.weights, self.kv, self.tp)

    @property
    def label(self) -> str:
        c = self.concurrency
        conc = "max" if c is None else (str(int(c)) if float(c).is_integer() else f"{c:.1f}")
        return (
            f"{self.dataset}:{self.row} {self.gpu} {self.engine} {self.weights} tp{self.tp} "
            f"{self.isl}/{self.osl} conc {conc}"
        )
