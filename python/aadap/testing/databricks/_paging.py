"""Paged listings: opaque page tokens bound to the listing that issued them, and the
``next_page_token``/``prev_page_token`` of a page."""

from __future__ import annotations

import binascii

from aadap.testing._server import FakeResponse, b64url, unb64url
from aadap.testing.databricks._errors import invalid


def make_token(scope: str, offset: int) -> str:
    """An opaque page token: where the next page starts, bound to the listing it came from."""
    return b64url(f"{offset}:{scope}".encode())


def read_token(token: str | None, scope: str) -> int | None:
    """The offset a page token points at (0 without one); None for a token this listing did not
    issue."""
    if not token:
        return 0
    try:
        offset, _, issued_for = unb64url(token).decode().partition(":")
        if issued_for != scope or not offset.isdigit():
            return None
        return int(offset)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def bad_token(token: str) -> FakeResponse:
    """400 for a page token the listing did not issue."""
    return invalid(f"The page token {token!r} is not valid for this request.")


def page_offset(token: str | None, scope: str) -> int | FakeResponse:
    """Where the page a request asks for starts (0 without a token), else 400 for a page token
    the listing did not issue."""
    offset = read_token(token, scope)
    return bad_token(token or "") if offset is None else offset


def page_links(scope: str, offset: int, size: int, total: int) -> dict[str, str]:
    """``next_page_token`` while items follow the page, ``prev_page_token`` after the first."""
    links: dict[str, str] = {}
    if offset + size < total:
        links["next_page_token"] = make_token(scope, offset + size)
    if offset > 0:
        links["prev_page_token"] = make_token(scope, max(0, offset - size))
    return links
