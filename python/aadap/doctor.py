"""``aadap doctor``: what is installed, how it is configured, and whether things answer.

Checks: the native libraries (and a known-answer FAISS search, which also exercises BLAS), the
settings, the store, and every cloud endpoint the settings name (one HTTPS request each, with
the CA bundle aadap would use).
"""

from __future__ import annotations

import platform
import sys
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from aadap import _core
from aadap.correlation import correlation_id, current_correlation_id
from aadap.tls import ca_bundle

if TYPE_CHECKING:
    from aadap._core import SettingRow  # a TypedDict that exists only in the stubs

__all__ = ["Check", "DoctorReport", "doctor"]


@dataclass(frozen=True)
class Check:
    """One thing that was tried: what, whether it worked, and the details (no secrets)."""

    name: str
    target: str
    ok: bool
    detail: str
    latency_ms: float = 0.0


@dataclass(frozen=True)
class DoctorReport:
    """Versions, effective settings (secrets masked) and the result of every check."""

    version: str
    python: str
    platform: str
    libraries: list[tuple[str, str]]
    faiss: Check
    settings: list[SettingRow] = field(default_factory=list)
    settings_error: str | None = None
    ca_bundle: str = ""
    store: Check | None = None
    endpoints: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the settings are valid and every check passed."""
        checks = [self.faiss, self.store, *self.endpoints]
        return self.settings_error is None and all(c is not None and c.ok for c in checks)

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
            f"  {'blas':<14} {self.faiss.target}",
            f"faiss self-test: {'ok' if self.faiss.ok else 'FAILED'} ({self.faiss.detail})",
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
            lines.append(f"  (HTTPS trusts {self.ca_bundle})")
        lines.append("")
        if self.store is None:
            lines.append("store: not checked (settings are invalid)")
        else:
            lines.append(f"store: {self.store.target}")
            lines.append(f"  {_state(self.store)}: {self.store.detail}")
        if self.endpoints:
            lines.append("endpoints:")
            for check in self.endpoints:
                lines.append(f"  {check.name:<28} {check.target}")
                lines.append(f"  {'':<28} {_state(check)}: {check.detail}")
        lines += ["", "status: OK" if self.ok else "status: PROBLEMS FOUND"]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from aadap.notebook import doctor_html

        return doctor_html(self)


def _state(check: Check) -> str:
    state = "reachable" if check.ok else "UNREACHABLE"
    return f"{state} ({check.latency_ms:.1f} ms)"


def _endpoints(settings: _core.Settings) -> list[tuple[str, str]]:
    """(name, url) of every cloud endpoint the settings point at."""
    found = [
        ("azure openai", settings.azure_openai_endpoint),
        ("databricks (sandbox)", settings.sandbox.databricks_host),
        ("databricks (production)", settings.production.databricks_host),
    ]
    if settings.fabric_client_id or settings.fabric_tenant_id:
        found += [("fabric api", settings.fabric_api_base)]
    if settings.fabric_tenant_id or settings.azure_openai_tenant_id:
        found += [("entra id", settings.entra_authority)]
    return [(name, url) for name, url in found if url]


def _faiss_check() -> Check:
    result = _core.faiss_self_test()
    return Check(name="faiss", target=result.blas, ok=result.ok, detail=result.detail)


def doctor(*, timeout: float = 5.0) -> DoctorReport:
    """Collect the report. Reads the settings afresh (not the cached ones) and never raises
    for a configuration, store or network problem: the report says what is wrong."""
    report = DoctorReport(
        version=_core.__version__,
        python=platform.python_version(),
        platform=f"{sys.platform} {platform.machine()}",
        libraries=_core.library_versions(),
        faiss=_faiss_check(),
    )
    try:
        settings = _core.Settings.from_env()
    except _core.ConfigurationError as error:
        return replace(report, settings_error=str(error))
    bundle = ca_bundle(settings)
    with correlation_id(current_correlation_id()) as cid:
        probe = _core.probe_store(_core.DatabaseUrl(settings.database_url.reveal()), cid, timeout)
        endpoints = []
        for name, url in _endpoints(settings):
            result = _core.check_endpoint(
                url, bundle, settings.tls_verify, settings.correlation_id_header, cid, timeout
            )
            endpoints.append(Check(name, url, result.reachable, result.detail, result.latency_ms))
    return replace(
        report,
        settings=settings.describe(),
        ca_bundle=f"{bundle.path or 'the TLS library default'} [{bundle.source}]",
        store=Check(
            name=probe.backend,
            target=probe.url,
            ok=probe.reachable,
            detail=f"{probe.backend} {probe.server_version}: {probe.detail}",
            latency_ms=probe.latency_ms,
        ),
        endpoints=endpoints,
    )
