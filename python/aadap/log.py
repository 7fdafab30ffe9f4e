"""Structured logging shared with the C++ core (config-and-logging.md §2).

Python code logs through the same sink and format as C++: one JSON (or console) line per event
with timestamp, level, logger, event, app, environment, correlation_id and the event's fields,
secrets masked. ``route_logs_to_python()`` sends every record, C++ ones included, to the
standard :mod:`logging` module instead (for notebooks and services that configure logging).
"""

from __future__ import annotations

import atexit
import contextlib
import json
from typing import Any, Literal

from aadap import _core
from aadap.correlation import current_correlation_id

__all__ = [
    "Logger",
    "configure_logging",
    "get_log_level",
    "get_logger",
    "route_logs_to_python",
    "set_log_format",
    "set_log_level",
]

LevelName = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

# Python's logging levels; the module itself is imported only when records are routed to it.
DEBUG, INFO, WARNING, ERROR, CRITICAL = 10, 20, 30, 40, 50

_configured = False


def _ensure_configured() -> None:
    """Apply the settings' level and format before the first line (once)."""
    global _configured
    if _configured:
        return
    _configured = True
    from aadap.settings import get_settings

    # With invalid settings logging keeps its defaults; get_settings() reports the problem to
    # the caller that needs them.
    with contextlib.suppress(_core.ConfigurationError):
        get_settings()


class Logger:
    """A named structured logger: ``log.info("task.created", task_id=t.id)``.

    Events are short dotted names; keyword arguments become fields of the line (values must be
    JSON-serialisable or are written as ``str(value)``). The current correlation id is added.
    Thread-safe.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Logger({self.name!r})"

    def log(self, level: int | str, event: str, **fields: Any) -> None:
        _ensure_configured()
        if not _core.log_enabled(level):
            return
        payload = json.dumps(fields, default=str)
        _core.log(level, self.name, event, current_correlation_id() or "", payload)

    def debug(self, event: str, **fields: Any) -> None:
        self.log(DEBUG, event, **fields)

    def info(self, event: str, **fields: Any) -> None:
        self.log(INFO, event, **fields)

    def warning(self, event: str, **fields: Any) -> None:
        self.log(WARNING, event, **fields)

    def error(self, event: str, **fields: Any) -> None:
        self.log(ERROR, event, **fields)

    def critical(self, event: str, **fields: Any) -> None:
        self.log(CRITICAL, event, **fields)


def get_logger(name: str = "aadap") -> Logger:
    """A logger for a component, e.g. ``get_logger("aadap.pipeline")``."""
    return Logger(name)


def set_log_level(level: int | str) -> None:
    """Change the level at run time (``"DEBUG"`` ... ``"CRITICAL"`` or ``logging.DEBUG`` ...)."""
    _ensure_configured()
    _core.set_log_level(level)


def get_log_level() -> str:
    """The current level name."""
    return _core.get_log_level()


def set_log_format(fmt: Literal["json", "console"]) -> None:
    """Switch between one JSON object per line and human-readable lines."""
    _ensure_configured()
    _core.set_log_format(fmt)


def configure_logging(settings: _core.Settings | None = None) -> None:
    """Apply level, format, app name and environment from ``settings`` (default:
    :func:`aadap.get_settings`)."""
    global _configured
    from aadap.settings import get_settings

    _core.configure_logging(settings if settings is not None else get_settings())
    _configured = True


def _forward(level: int, name: str, event: str, cid: str, fields_json: str, line: str) -> None:
    import logging

    logger = logging.getLogger(name)
    if not logger.isEnabledFor(level):
        return
    try:
        fields: dict[str, Any] = json.loads(fields_json)
    except ValueError:  # a registered secret masked inside a bare number, say
        fields = {"unparsed": fields_json}
    text = " ".join([event, *(f"{key}={value}" for key, value in fields.items())])
    record = logger.makeRecord(
        name,
        level,
        "(aadap)",
        0,
        "%s",
        (text,),
        None,
        extra={"event": event, "correlation_id": cid or None, "fields": fields, "line": line},
    )
    logger.handle(record)


def route_logs_to_python(enabled: bool = True) -> None:
    """Send every aadap record (C++ and Python) to :mod:`logging` instead of stderr.

    Records go to ``logging.getLogger(<component>)`` (``aadap.store``, ``aadap.settings``...)
    with the message ``"event key=value ..."`` and the attributes ``event``,
    ``correlation_id``, ``fields`` (a dict) and ``line`` (the formatted line), all masked.
    ``route_logs_to_python(False)`` goes back to stderr.
    """
    _ensure_configured()
    _core.set_log_callback(_forward if enabled else None)


# A callback must not outlive the interpreter: C++ threads may log during shutdown.
atexit.register(_core.set_log_callback, None)
