"""``aadap doctor``: what is installed, how it is configured, and whether the store answers."""

from __future__ import annotations

import platform
import sys
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from aadap import _core

if TYPE_CHECKING:
    from aadap._core import SettingRow  # a TypedDict that exists only in the stubs
from aadap.correlation import correlation_id, current_correlation_id

__all__ = ["DoctorReport", "StoreCheck", "doctor"]


@dataclass(frozen=True)
class StoreCheck:
    """Reachability of the configured store (the URL is shown with its password masked)."""

    url: str
    backend: str
    reachable: bool
    server_version: str
    detail: str
    latency_ms: float


@dataclass(frozen=True)
class DoctorReport:
    """Versions, effective settings (secrets masked) and the store check."""

    version: str
    python: str
    platform: str
    libraries: list[tuple[str, str]]
    settings: list[SettingRow] = field(default_factory=list)
    settings_error: str | None = None
    store: StoreCheck | None = None

    @property
    def ok(self) -> bool:
        """True when the settings are valid and the store is reachable."""
        return self.settings_error is None and self.store is not None and self.store.reachable

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["libraries"] = dict(self.libraries)
        data["ok"] = self.ok
        return data

    def __str__(self) -> str:
        lines = [
            f"aadap {self.version}",
            f"python {self.python} on {self.platform}",
            "",
            "libraries:",
            *(f"  {name:<14} {version}" for name, version in self.libraries),
            "",
        ]
        if self.settings_error is not None:
            lines += ["settings: INVALID", *("  " + x for x in self.settings_error.splitlines())]
        else:
            lines.append("settings:")
            for row in self.settings:
                value = "(unset)" if row["value"] is None else row["value"]
                source = "" if row["source"] == "default" else f"  [{row['source']}]"
                lines.append(f"  {row['variable']:<42} {value}{source}")
        lines.append("")
        if self.store is None:
            lines.append("store: not checked (settings are invalid)")
        else:
            state = "reachable" if self.store.reachable else "UNREACHABLE"
            lines.append(f"store: {self.store.url}")
            lines.append(f"  {self.store.backend} {self.store.server_version}: {state}")
            lines.append(f"  {self.store.detail} ({self.store.latency_ms:.1f} ms)")
        lines += ["", "status: OK" if self.ok else "status: PROBLEMS FOUND"]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from aadap.notebook import doctor_html

        return doctor_html(self)


def doctor(*, timeout: float = 5.0) -> DoctorReport:
    """Collect the report. Reads the settings afresh (not the cached ones) and never raises
    for a configuration or store problem: the report says what is wrong."""
    report = DoctorReport(
        version=_core.__version__,
        python=platform.python_version(),
        platform=f"{sys.platform} {platform.machine()}",
        libraries=_core.library_versions(),
    )
    try:
        settings = _core.Settings.from_env()
    except _core.ConfigurationError as error:
        return replace(report, settings_error=str(error))
    with correlation_id(current_correlation_id()):
        url = _core.DatabaseUrl(settings.database_url.reveal())
        probe = _core.probe_store(url, current_correlation_id() or "", timeout)
    return replace(
        report,
        settings=settings.describe(),
        store=StoreCheck(
            url=probe.url,
            backend=probe.backend,
            reachable=probe.reachable,
            server_version=probe.server_version,
            detail=probe.detail,
            latency_ms=probe.latency_ms,
        ),
    )
