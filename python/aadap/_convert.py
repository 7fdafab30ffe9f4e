"""Python arguments turned into what the core takes, with aadap's errors for bad input."""

from __future__ import annotations

import json
from typing import Any

from aadap import _core


def json_text(value: Any, what: str) -> str:
    """``value`` as JSON text; InvalidArgumentError naming ``what`` when it cannot be."""
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise _core.InvalidArgumentError(f"{what} is not JSON-serialisable: {error}") from None


def json_object(value: Any, what: str) -> str:
    """A mapping (or None for {}) as JSON text; InvalidTypeError for anything else."""
    if value is None:
        return "{}"
    if not isinstance(value, dict):
        from collections.abc import Mapping

        if not isinstance(value, Mapping):
            raise _core.InvalidTypeError(f"{what} is a dict, not {type(value).__name__}")
        value = dict(value)
    return json_text(value, what)
