"""What every service of the fake shares: the fake it belongs to (its lock and clocks), the
routes it answers, public snapshots of its records, and its scripted rules."""

from __future__ import annotations

import abc
import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from aadap.testing._server import FakeResponse, RecordedRequest

if TYPE_CHECKING:
    from aadap.testing.databricks.fake import FakeDatabricks

_Record = TypeVar("_Record")
_Snapshot = TypeVar("_Snapshot")
_Rule = TypeVar("_Rule", bound="_Counted")


class Service(abc.ABC):
    """One API of the workspace. Its state is kept under the fake's lock; :meth:`route` answers
    the requests that are its own (after authentication) and leaves the others to the next
    service."""

    def __init__(self, fake: FakeDatabricks) -> None:
        self.fake = fake

    @abc.abstractmethod
    def route(self, request: RecordedRequest) -> FakeResponse | None:
        """The response to a request for this API; None when the path is not one of its."""

    def snapshots(
        self, records: Mapping[Any, _Record], info: Callable[[_Record], _Snapshot]
    ) -> list[_Snapshot]:
        """Public snapshots of every record, oldest first."""
        with self.fake._lock:
            return [info(record) for record in records.values()]

    def last_snapshot(
        self,
        records: dict[Any, _Record],
        info: Callable[[_Record], _Snapshot],
        nothing: str,
    ) -> _Snapshot:
        """The snapshot of the newest record (LookupError saying ``nothing`` when there is
        none)."""
        with self.fake._lock:
            if not records:
                raise LookupError(nothing)
            return info(next(reversed(records.values())))

    def snapshot(
        self, records: Mapping[Any, _Record], key: Any, info: Callable[[_Record], _Snapshot]
    ) -> _Snapshot:
        """The snapshot of one record (KeyError when there is none)."""
        with self.fake._lock:
            return info(records[key])


def snapshot(record_type: Callable[..., _Snapshot], source: object, **computed: Any) -> _Snapshot:
    """A public record (a frozen dataclass) from a service's internal one: each field takes the
    value of ``computed`` when given, else the source's attribute of the same name."""
    names = [f.name for f in dataclasses.fields(record_type)]  # type: ignore[arg-type]
    values = {name: computed[name] if name in computed else getattr(source, name) for name in names}
    return record_type(**values)


class RoutedService(Service):
    """A service whose requests are those whose path :attr:`ROUTE` matches."""

    ROUTE: ClassVar[re.Pattern[str]]

    def route(self, request: RecordedRequest) -> FakeResponse | None:
        match = self.ROUTE.match(request.path)
        return None if match is None else self.handle(request, match)

    @abc.abstractmethod
    def handle(self, request: RecordedRequest, route: re.Match[str]) -> FakeResponse:
        """Answers a request whose path :attr:`ROUTE` matched."""


class _Counted(Protocol):
    times: int | None


def take_rule(rules: list[_Rule], matches: Callable[[_Rule], bool]) -> _Rule | None:
    """The first rule that ``matches``; it counts one use and is dropped after its last."""
    for rule in rules:
        if matches(rule):
            if rule.times is not None:
                rule.times -= 1
                if rule.times == 0:
                    rules.remove(rule)
            return rule
    return None


def ms(seconds: float) -> int:
    """Epoch seconds as the epoch milliseconds of the APIs' timestamps."""
    return int(seconds * 1000)


def json_copy(value: Any) -> Any:
    """A deep copy of JSON-like data (what a client sent, or a payload kept for later)."""
    return json.loads(json.dumps(value))
