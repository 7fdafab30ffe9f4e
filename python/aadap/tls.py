"""Which certificate authorities HTTPS trusts.

A libcurl bundled in a wheel would look for CA certificates where the build machine keeps
them, which is wrong on other distributions; aadap always names the file explicitly:
``AADAP_CA_BUNDLE``, else certifi's bundle, else the first system bundle found
(``/etc/ssl/certs/ca-certificates.crt``, ``/etc/pki/tls/certs/ca-bundle.crt``, ...).
"""

from __future__ import annotations

from aadap import _core

__all__ = ["ca_bundle"]


def _certifi_path() -> str:
    try:
        import certifi
    except ImportError:
        return ""
    return str(certifi.where())


def ca_bundle(settings: _core.Settings | None = None) -> _core.CaBundle:
    """The CA file HTTPS uses with ``settings`` (default :func:`aadap.get_settings`), and
    where it came from (``.source``: ``AADAP_CA_BUNDLE``, ``certifi``, ``system``, ``none``)."""
    if settings is None:
        from aadap.settings import get_settings

        settings = get_settings()
    return _core.resolve_ca_bundle(settings.ca_bundle, _certifi_path())
