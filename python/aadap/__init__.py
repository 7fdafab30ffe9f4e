"""aadap: the governed execution engine of an AI data-engineering platform.

Tasks move through a deterministic 25-state lifecycle, every step persisted as an immutable
event and audited; agents remember through a working memory and a vector memory; platform
clients deploy to Databricks and Microsoft Fabric. The core is C++ (``aadap._core``); this
package is its Python API.
"""

from typing import TYPE_CHECKING, Any

from aadap import lifecycle
from aadap import notebook as _notebook  # noqa: F401  (registers rich display)
from aadap._core import __version__
from aadap.correlation import (
    CorrelationIdMiddleware,
    correlation_id,
    correlation_id_from_headers,
    current_correlation_id,
    new_correlation_id,
)
from aadap.errors import *  # noqa: F403
from aadap.errors import __all__ as _error_names
from aadap.lifecycle import ApprovalStatus, AuditEventType, OperationType, RiskLevel, TaskState
from aadap.log import (
    configure_logging,
    get_log_level,
    get_logger,
    route_logs_to_python,
    set_log_format,
    set_log_level,
)
from aadap.settings import PlatformTargets, Secret, Settings, get_settings
from aadap.working_memory import ManualClock, WorkingMemory, scoped_key

__all__ = [
    *_error_names,
    "ApprovalRequest",
    "ApprovalStatus",
    "Artifact",
    "AuditEvent",
    "AuditEventType",
    "AzureOpenAI",
    "ChatCompletion",
    "CorrelationIdMiddleware",
    "CostRecord",
    "Databricks",
    "Embedder",
    "Engine",
    "EntraCredential",
    "Execution",
    "Fabric",
    "FabricJob",
    "HashingEmbedder",
    "LocalPlatform",
    "ManualClock",
    "ManualTime",
    "MemoryEntity",
    "OperationType",
    "PlatformResource",
    "PlatformTargets",
    "RetryPolicy",
    "RiskLevel",
    "SearchHit",
    "Secret",
    "Settings",
    "SqlResult",
    "StateTransition",
    "Task",
    "TaskLog",
    "TaskState",
    "Timeline",
    "TokenUsage",
    "VectorMemory",
    "WorkingMemory",
    "__version__",
    "configure_logging",
    "correlation_id",
    "correlation_id_from_headers",
    "current_correlation_id",
    "get_log_level",
    "get_logger",
    "get_settings",
    "lifecycle",
    "new_correlation_id",
    "route_logs_to_python",
    "scoped_key",
    "set_log_format",
    "set_log_level",
]

if TYPE_CHECKING:
    from aadap.azure_openai import (
        AzureOpenAI,
        ChatCompletion,
        EntraCredential,
        ManualTime,
        RetryPolicy,
        TokenUsage,
    )
    from aadap.databricks import Databricks
    from aadap.engine import Engine
    from aadap.fabric import Fabric, FabricJob
    from aadap.local_platform import LocalPlatform
    from aadap.results import SqlResult
    from aadap.snapshots import (
        ApprovalRequest,
        Artifact,
        AuditEvent,
        CostRecord,
        Execution,
        PlatformResource,
        StateTransition,
        Task,
        TaskLog,
    )
    from aadap.timeline import Timeline
    from aadap.vector_memory import (
        Embedder,
        HashingEmbedder,
        MemoryEntity,
        SearchHit,
        VectorMemory,
    )

# Imported on first use, to keep `import aadap` fast (the engine pulls in json and datetime).
_LAZY = {
    "Databricks": "aadap.databricks",
    "Engine": "aadap.engine",
    "Fabric": "aadap.fabric",
    "FabricJob": "aadap.fabric",
    "LocalPlatform": "aadap.local_platform",
    "SqlResult": "aadap.results",
    "Timeline": "aadap.timeline",
    **{
        name: "aadap.azure_openai"
        for name in ("AzureOpenAI", "ChatCompletion", "EntraCredential", "ManualTime",
                     "RetryPolicy", "TokenUsage")
    },
    **{
        name: "aadap.vector_memory"
        for name in ("Embedder", "HashingEmbedder", "MemoryEntity", "SearchHit", "VectorMemory")
    },
    **{
        name: "aadap.snapshots"
        for name in ("ApprovalRequest", "Artifact", "AuditEvent", "CostRecord", "Execution",
                     "PlatformResource", "StateTransition", "Task", "TaskLog")
    },
}  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'aadap' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
