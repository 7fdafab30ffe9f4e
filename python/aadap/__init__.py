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
from aadap.lifecycle import OperationType, RiskLevel, TaskState
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
    "AuditEvent",
    "CorrelationIdMiddleware",
    "Engine",
    "ManualClock",
    "OperationType",
    "PlatformTargets",
    "RiskLevel",
    "Secret",
    "Settings",
    "StateTransition",
    "Task",
    "TaskState",
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
    from aadap.engine import AuditEvent, Engine, StateTransition, Task

# Imported on first use, to keep `import aadap` fast (the engine pulls in dataclasses and
# datetime).
_LAZY = {name: "aadap.engine" for name in ("AuditEvent", "Engine", "StateTransition", "Task")}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'aadap' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
