"""The domain model: frozen attrs value classes. Imports nothing else of the project but errors
and units."""

from blackwell_decide.model.arch import MLAConfig, ModelArch, MoEConfig, ParamCounts
from blackwell_decide.model.deployment import CapacityBasis, Conventions, Deployment, KvRoomBasis
from blackwell_decide.model.formats import NumberFormat, QuantScheme
from blackwell_decide.model.hardware import Accelerator, Alternative, Cooling
from blackwell_decide.model.pricing import PriceQuote, PriceSnapshot
from blackwell_decide.model.source import ARTICLE_SOURCE, DERIVED, USER_INPUT, Source, SourceKind

__all__ = [
    "ARTICLE_SOURCE",
    "DERIVED",
    "USER_INPUT",
    "Accelerator",
    "Alternative",
    "CapacityBasis",
    "Conventions",
    "Cooling",
    "Deployment",
    "KvRoomBasis",
    "MLAConfig",
    "MoEConfig",
    "ModelArch",
    "NumberFormat",
    "ParamCounts",
    "PriceQuote",
    "PriceSnapshot",
    "QuantScheme",
    "Source",
    "SourceKind",
]
