"""Evidence: dated records with sources and explicit token bases, triangulation of ratios on a
common baseline, the benchmark audit (``check-bench``) and the claim audit (``audit``)."""

from blackwell_decide.evidence.bench_audit import BenchAudit, Diagnostic, audit_bench_result
from blackwell_decide.evidence.claim_file import Claim, ClaimFile, load_claims
from blackwell_decide.evidence.claims import (
    AuditReport,
    ClaimResult,
    audit,
    audit_file,
    format_audit,
)
from blackwell_decide.evidence.quantities import QUANTITIES
from blackwell_decide.evidence.readings import Reading, Recomputed
from blackwell_decide.evidence.records import (
    EvidenceRecord,
    FrontierPoint,
    all_records,
    frontier_at,
    get_record,
    measured_records,
    published_records,
)
from blackwell_decide.evidence.triangulation import (
    RatioEstimate,
    Restatement,
    Triangulation,
    article_triangulation,
    bandwidth_restatement,
    triangulate,
)

__all__ = [
    "QUANTITIES",
    "AuditReport",
    "BenchAudit",
    "Claim",
    "ClaimFile",
    "ClaimResult",
    "Diagnostic",
    "EvidenceRecord",
    "FrontierPoint",
    "RatioEstimate",
    "Reading",
    "Recomputed",
    "Restatement",
    "Triangulation",
    "all_records",
    "article_triangulation",
    "audit",
    "audit_bench_result",
    "audit_file",
    "bandwidth_restatement",
    "format_audit",
    "frontier_at",
    "get_record",
    "load_claims",
    "measured_records",
    "published_records",
    "triangulate",
]
