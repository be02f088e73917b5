"""The domain model: frozen attrs value classes. Imports nothing else of the project but errors
and units."""

from blackwell_decide.model.arch import MLAConfig, ModelArch, MoEConfig, ParamCounts
from blackwell_decide.model.deployment import CapacityBasis, Conventions, Deployment, KvRoomBasis
from blackwell_decide.model.engine import Engine, EngineSettings
from blackwell_decide.model.formats import NumberFormat, QuantScheme
from blackwell_decide.model.hardware import Accelerator, Alternative, Cooling
from blackwell_decide.model.pricing import PRICE_TIERS, PriceQuote, PriceSnapshot, PriceTier
from blackwell_decide.model.source import ARTICLE_SOURCE, DERIVED, USER_INPUT, Source, SourceKind

__all__ = [
    "ARTICLE_SOURCE",
    "DERIVED",
    "PRICE_TIERS",
    "USER_INPUT",
    "Accelerator",
    "Alternative",
    "CapacityBasis",
    "Conventions",
    "Cooling",
    "Deployment",
    "Engine",
    "EngineSettings",
    "KvRoomBasis",
    "MLAConfig",
    "MoEConfig",
    "ModelArch",
    "NumberFormat",
    "ParamCounts",
    "PriceQuote",
    "PriceSnapshot",
    "PriceTier",
    "QuantScheme",
    "Source",
    "SourceKind",
]
