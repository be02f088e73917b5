"""What a batch-1 decode step costs besides the weight bytes and the all-reduces.

Three measured figures per accelerator family, in ``builtin/data/kernel_overheads.toml``:

- the HBM bandwidth a kernel reaches (STREAM), below the spec the catalog quotes;
- the fixed time of one weight-streaming matmul at batch 1: a measured GEMM takes longer than
  its bytes at that bandwidth, by its launch, pipeline fill and tail; the least such excess over
  the family's measured GEMMs is what each matmul of a step adds, so the floor of every measured
  GEMM stays at or below its measurement;
- the idle time at a kernel boundary under CUDA graphs, paid by every other kernel of the layer
  (norms, rotary embedding, KV-cache write, attention, activation) as the serving engine's
  kernel list counts them.

The decode floor then adds ``N_mm·t_mm + N_k·t_gap`` to the weights and the all-reduces: the
floor of an engine that launches one kernel per operator (vLLM, SGLang, TensorRT-LLM). A
megakernel without kernel boundaries could go below it; none of the engines the project
models is one.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from blackwell_decide.bounds.comm import table_source
from blackwell_decide.errors import CatalogError
from blackwell_decide.model import DERIVED, Source, SourceKind

if TYPE_CHECKING:
    from blackwell_decide.model import Accelerator, Deployment, ModelArch

OVERHEADS_FILE = "kernel_overheads.toml"


@attrs.frozen
class GemmMeasurement:
    """One batch-1 GEMM measurement: an N×K weight at ``bytes_per_param`` and its TFLOP/s."""

    n: int
    k: int
    bytes_per_param: float
    tflops: float

    @property
    def weight_bytes(self) -> float:
        return self.n * self.k * self.bytes_per_param

    @property
    def seconds(self) -> float:
        return 2.0 * self.n * self.k / (self.tflops * 1e12)


@attrs.frozen
class Family:
    """The kernel figures of one accelerator family (see the module docstring)."""

    key: str
    members: tuple[str, ...]
    bandwidth_from: str | None
    kernel_gap_s: float
    kernel_gap_source: Source
    gemm_on: str
    gemm_reference_bandwidth: float  # B/s, achievable, of the GPU the GEMMs were measured on
    gemm_reference_source: Source
    gemms: tuple[GemmMeasurement, ...]
    gemm_source: Source
    kernel_gap_borrowed_from: str | None = None
    gemm_borrowed_from: str | None = None

    def binding_gemm(self) -> GemmMeasurement:
        """The measured GEMM with the least excess over its bytes at the reference bandwidth."""
        return min(self.gemms, key=lambda g: g.seconds - g.weight_bytes / self.gemm_reference_bandwidth)


@attrs.frozen
class Bandwidth:
    accelerator: str
    measured: float  # B/s
    spec: float  # B/s, what the measurement is a fraction of
    source: Source


@attrs.frozen
class KernelList:
    kernels: tuple[str, ...]
    source: Source


@attrs.frozen
class OverheadTable:
    bandwidths: Mapping[str, Bandwidth]
    families: tuple[Family, ...]
    fallback: str
    engines: Mapping[str, KernelList]
    default_engine: KernelList

    def family_of(self, accelerator: Accelerator) -> tuple[Family, str | None]:
        for fam in self.families:
            if accelerator.family in fam.members:
                return fam, None
        fam = next(f for f in self.families if f.key == self.fallback)
        return fam, f"no kernel measurements for the {accelerator.family} family: {fam.key} figures used"


@attrs.frozen
class DecodeOverheads:
    """The figures one deployment's decode floor uses, each with its source."""

    bandwidth: float  # B/s the weights stream at
    bandwidth_source: Source
    gemm: GemmMeasurement  # the binding measurement
    gemm_reference_bandwidth: float
    gemm_reference_source: Source
    gemm_source: Source
    kernel_gap_s: float
    kernel_gap_source: Source
    matmuls_per_step: int
    other_kernels_per_step: int
    kernel_list: KernelList
    notes: tuple[str, ...] = ()


def _kernel_list(raw: Mapping[str, Any], entry: Mapping[str, Any]) -> KernelList:
    return KernelList(tuple(str(k) for k in entry["kernels"]), table_source(raw, str(entry["source"])))


@functools.cache
def overhead_table() -> OverheadTable:
    """The shipped kernel-overhead table."""
    from blackwell_decide.builtin._data import data_file

    try:
        raw = tomllib.loads(data_file(OVERHEADS_FILE).read_text(encoding="utf-8"))
        bandwidths = {
            str(b["accelerator"]): Bandwidth(
                accelerator=str(b["accelerator"]),
                measured=float(b["tb_s"]) * 1e12,
                spec=float(b["spec_tb_s"]) * 1e12,
                source=table_source(raw, str(b["source"])),
            )
            for b in raw["bandwidth"]
        }
        families = tuple(
            Family(
                key=str(f["key"]),
                members=tuple(str(m) for m in f["members"]),
                bandwidth_from=f.get("bandwidth_from"),
                kernel_gap_s=float(f["kernel_gap_us"]) * 1e-6,
                kernel_gap_source=table_source(raw, str(f["kernel_gap_source"])),
                gemm_on=str(f["gemm_on"]),
                gemm_reference_bandwidth=float(f["gemm_reference_tb_s"]) * 1e12,
                gemm_reference_source=table_source(raw, str(f["gemm_reference_source"])),
                gemms=tuple(GemmMeasurement(int(n), int(k), float(b), float(t)) for n, k, b, t in f["gemm"]),
                gemm_source=table_source(raw, str(f["gemm_source"])),
                kernel_gap_borrowed_from=f.get("kernel_gap_borrowed_from"),
                gemm_borrowed_from=f.get("gemm_borrowed_from"),
            )
            for f in raw["family"]
        )
        table = OverheadTable(
            bandwidths=bandwidths,
            families=families,
            fallback=str(raw["fallback"]["family"]),
            engines={str(e["key"]): _kernel_list(raw, e) for e in raw["engine"]},
            default_engine=_kernel_list(raw, raw["default_engine"]),
        )
        if not any(f.key == table.fallback for f in families) or any(not f.gemms for f in families):
            raise ValueError("the fallback family must be listed and every family needs a GEMM measurement")
        return table
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"{OVERHEADS_FILE}: not a valid kernel-overhead table ({exc})") from exc


def _bandwidth(accelerator: Accelerator, family: Family, table: OverheadTable) -> tuple[float, Source, str | None]:
    """The accelerator's measured bandwidth, else its family's measured fraction of its own
    spec, else the spec."""
    own = table.bandwidths.get(accelerator.key)
    if own is not None:
        return own.measured, own.source, None
    spec_source = accelerator.sources.get("hbm_bandwidth") or DERIVED
    ref = table.bandwidths.get(family.bandwidth_from or "")
    if ref is None or accelerator.family not in family.members:
        return (
            accelerator.hbm_bandwidth,
            spec_source,
            (f"no bandwidth measurement for {accelerator.name} or its family: the spec bandwidth streams the weights"),
        )
    fraction = ref.measured / ref.spec
    note = (
        f"no bandwidth measurement for {accelerator.name}: {ref.accelerator}'s measured "
        f"{ref.measured / 1e12:g} of {ref.spec / 1e12:g} TB/s ({fraction:.1%}) applied to its spec"
    )
    source = Source(
        url=ref.source.url, date=ref.source.date, kind=SourceKind.DERIVED, title=ref.source.title, note=note
    )
    return accelerator.hbm_bandwidth * fraction, source, note


def matmuls_per_step(arch: ModelArch) -> int:
    """Weight-streaming matmul kernels of one decode step, the fewest an engine launches: per
    layer the fused QKV projection (MLA: its down- and up-projections) and the output
    projection, then the fused gate/up and down projections (a MoE layer: the router and the
    two grouped expert matmuls), and the lm_head once."""
    attention = 3 if arch.mla is not None else 2
    moe_layers = arch.num_layers - arch.moe.dense_layers if arch.moe is not None else 0
    mlp = 2 * (arch.num_layers - moe_layers) + 3 * moe_layers
    return attention * arch.num_layers + mlp + 1


def decode_overheads(deployment: Deployment) -> DecodeOverheads:
    """The achievable bandwidth, matmul fixed time and kernel gaps of ``deployment``."""
    table = overhead_table()
    acc = deployment.accelerator
    family, fallback_note = table.family_of(acc)
    bandwidth, bw_source, bw_note = _bandwidth(acc, family, table)
    kernels = table.engines.get(deployment.engine, table.default_engine)
    notes = [n for n in (fallback_note, bw_note) if n]
    if family.gemm_borrowed_from:
        notes.append(f"matmul fixed time borrowed from {family.gemm_borrowed_from} (no {family.key} measurement)")
    if family.kernel_gap_borrowed_from:
        notes.append(f"kernel gap borrowed from {family.kernel_gap_borrowed_from} (no {family.key} measurement)")
    if deployment.engine not in table.engines:
        notes.append(f"no kernel list cited for {deployment.engine}: only attention counted per layer")
    return DecodeOverheads(
        bandwidth=bandwidth,
        bandwidth_source=bw_source,
        gemm=family.binding_gemm(),
        gemm_reference_bandwidth=family.gemm_reference_bandwidth,
        gemm_reference_source=family.gemm_reference_source,
        gemm_source=family.gemm_source,
        kernel_gap_s=family.kernel_gap_s,
        kernel_gap_source=family.kernel_gap_source,
        matmuls_per_step=matmuls_per_step(deployment.model),
        other_kernels_per_step=len(kernels.kernels) * deployment.model.num_layers,
        kernel_list=kernels,
        notes=tuple(notes),
    )
