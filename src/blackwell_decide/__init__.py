"""blackwell_decide: should this LLM inference workload move to the new GPU, when, and what does
it really get per token?"""

from blackwell_decide.errors import (
    BlackwellDecideError,
    CatalogError,
    DoesNotFitError,
    PluginError,
    ScenarioError,
    UnknownKeyError,
    UsageError,
)
from blackwell_decide.model import (
    ARTICLE_SOURCE,
    Accelerator,
    Alternative,
    Cooling,
    MLAConfig,
    ModelArch,
    MoEConfig,
    NumberFormat,
    ParamCounts,
    PriceQuote,
    PriceSnapshot,
    QuantScheme,
    Source,
    SourceKind,
)

__version__ = "0.1.0"

__all__ = [
    "ARTICLE_SOURCE",
    "Accelerator",
    "Alternative",
    "BlackwellDecideError",
    "CatalogError",
    "Cooling",
    "DoesNotFitError",
    "MLAConfig",
    "MoEConfig",
    "ModelArch",
    "NumberFormat",
    "ParamCounts",
    "PluginError",
    "PriceQuote",
    "PriceSnapshot",
    "QuantScheme",
    "ScenarioError",
    "Source",
    "SourceKind",
    "UnknownKeyError",
    "UsageError",
    "__version__",
]
