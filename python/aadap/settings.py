"""Settings from ``AADAP_*`` environment variables and ``.env`` (config-and-logging.md §1).

Parsing and validation live in the C++ core so that C++ components and Python see the same
values. ``Settings.from_env()`` always reads afresh; ``get_settings()`` caches one instance for
the process (``get_settings.cache_clear()`` forgets it) and applies the logging settings.
"""

from __future__ import annotations

import functools

from aadap._core import (
    InvalidArgumentError,
    PlatformTargets,
    Secret,
    Settings,
    configure_logging,
)

__all__ = ["PlatformTargets", "Secret", "Settings", "get_settings", "targets_of"]


def _settings_repr(self: Settings) -> str:
    changed = [
        f"{row['field']}={row['value']!r}" if not row["secret"] else f"{row['field']}=**********"
        for row in self.describe()
        if row["source"] != "default"
    ]
    return f"Settings({', '.join(changed)})" if changed else "Settings(<all defaults>)"


setattr(Settings, "__repr__", _settings_repr)  # noqa: B010 (a C++ class)


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment and ``./.env``.

    The first call also applies ``AADAP_LOG_LEVEL``/``AADAP_LOG_FORMAT`` to logging. Call
    ``get_settings.cache_clear()`` after changing the environment to read it again. Raises
    :class:`aadap.ConfigurationError` listing every invalid variable.
    """
    settings = Settings.from_env()
    configure_logging(settings)
    return settings


def targets_of(settings: Settings, target: str) -> PlatformTargets:
    """The platform targets of a task environment, ``"SANDBOX"`` or ``"PRODUCTION"``: a
    client made for one never reads the other's (INV-05)."""
    if target not in ("SANDBOX", "PRODUCTION"):
        raise InvalidArgumentError("target is 'SANDBOX' or 'PRODUCTION'")
    return settings.sandbox if target == "SANDBOX" else settings.production
