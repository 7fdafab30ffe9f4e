"""Rich display in Jupyter: HTML for the objects users look at in notebooks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aadap import _core

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aadap.doctor import DoctorReport
    from aadap.results import SqlResult
    from aadap.snapshots import Snapshot
    from aadap.timeline import Timeline
    from aadap.vector_memory import VectorMemory
    from aadap.working_memory import WorkingMemory

__all__ = [
    "doctor_html",
    "settings_html",
    "snapshot_html",
    "snapshots_html",
    "sql_result_html",
    "timeline_html",
    "vector_memory_html",
    "working_memory_html",
]  # fmt: skip

_TABLE = "<table style='border-collapse:collapse;font-family:monospace;font-size:12px'>"


def _row(*cells: str, header: bool = False) -> str:
    from html import escape

    tag = "th" if header else "td"
    style = "style='text-align:left;padding:2px 8px;border-bottom:1px solid #ddd'"
    return "<tr>" + "".join(f"<{tag} {style}>{escape(c)}</{tag}>" for c in cells) + "</tr>"


def settings_html(settings: _core.Settings) -> str:
    """A table of every setting: variable, value (secrets masked), where it came from."""
    rows = [_row("variable", "value", "source", header=True)]
    for item in settings.describe():
        value = "—" if item["value"] is None else str(item["value"])
        rows.append(_row(str(item["variable"]), value, str(item["source"])))
    table = f"{_TABLE}{''.join(rows)}</table>"
    return f"<details><summary><b>aadap Settings</b></summary>{table}</details>"


def doctor_html(report: DoctorReport) -> str:
    """The doctor report as HTML: status, libraries, store, settings."""
    from html import escape

    status = "✅ OK" if report.ok else "❌ problems found"
    parts = [f"<b>aadap {escape(report.version)}</b> — {status}", _TABLE]
    parts += [_row(name, version) for name, version in report.libraries]
    parts.append("</table>")
    checks = [report.faiss, *([report.store] if report.store else []), *report.endpoints]
    parts.append(_TABLE + _row("check", "target", "result", header=True))
    for check in checks:
        result = ("ok: " if check.ok else "FAILED: ") + check.detail
        parts.append(_row(check.name, check.target, result))
    parts.append("</table>")
    if report.settings_error is not None:
        parts.append(f"<pre>{escape(report.settings_error)}</pre>")
    else:
        rows = [_row("variable", "value", "source", header=True)]
        rows += [
            _row(
                str(r["variable"]), "—" if r["value"] is None else str(r["value"]), str(r["source"])
            )
            for r in report.settings
        ]
        parts.append(
            f"<details><summary>settings</summary>{_TABLE}{''.join(rows)}</table></details>"
        )
    return "".join(parts)


def working_memory_html(memory: WorkingMemory) -> str:
    """Per-namespace statistics of a working memory."""
    header = ("namespace", "default ttl", "keys", "bytes", "hits", "misses", "expired", "evicted")
    rows = [_row(*header, header=True)]
    for s in memory.stats().values():
        ttl = "none" if s.default_ttl_seconds is None else f"{s.default_ttl_seconds} s"
        rows.append(
            _row(
                s.name,
                ttl,
                *map(str, (s.keys, s.bytes, s.hits, s.misses, s.expirations, s.evictions)),
            )
        )
    title = f"<b>WorkingMemory</b> (max_bytes={memory.max_bytes}, shards={memory.shard_count})"
    return f"{title}{_TABLE}{''.join(rows)}</table>"


def vector_memory_html(memory: VectorMemory) -> str:
    """A vector memory's statistics."""
    rows = [_row(str(key), str(value)) for key, value in memory.stats().items()]
    return f"<b>VectorMemory {memory.name!r}</b>{_TABLE}{''.join(rows)}</table>"


setattr(_core.Settings, "_repr_html_", settings_html)  # noqa: B010 (a C++ class)


def _cell(value: object) -> str:
    from datetime import datetime
    from enum import Enum

    if value is None:
        return "—"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if hasattr(value, "dtype") and hasattr(value, "shape"):  # a numpy array: its shape only
        return f"{value.dtype}[{', '.join(map(str, value.shape))}]"
    if isinstance(value, dict):
        import json

        return json.dumps(value, ensure_ascii=False)
    return str(value)


def snapshot_html(snapshot: Snapshot) -> str:
    """One snapshot as a field/value table."""
    rows = [_row(name, _cell(getattr(snapshot, name))) for name in snapshot._fields]
    return f"<b>{type(snapshot).__name__}</b>{_TABLE}{''.join(rows)}</table>"


def snapshots_html(snapshots: Sequence[Snapshot], limit: int = 200) -> str:
    """Many snapshots as one table of their summary columns (the first ``limit`` rows)."""
    if not snapshots:
        return "<i>no rows</i>"
    columns = snapshots[0]._summary
    rows = [_row(*columns, header=True)]
    rows += [_row(*(_cell(getattr(s, c)) for c in columns)) for s in snapshots[:limit]]
    more = f"<i>… {len(snapshots) - limit} more</i>" if len(snapshots) > limit else ""
    title = f"<b>{len(snapshots)} {type(snapshots[0]).__name__} rows</b>"
    return f"{title}{_TABLE}{''.join(rows)}</table>{more}"


def timeline_html(timeline: Timeline) -> str:
    """A task's header line and its timeline as a table."""
    from html import escape

    t = timeline.task
    head = (f"<b>{escape(t.title)}</b> — {escape(t.state.value)} v{t.version}, "
            f"{escape(t.environment)}, tokens {t.tokens_used}/{t.token_budget}")  # fmt: skip
    rows = [_row("time", "kind", "what", "who", header=True)]
    rows += [_row(_cell(e.at), e.kind, e.summary, e.actor) for e in timeline.entries]
    return f"{head}{_TABLE}{''.join(rows)}</table>"


def sql_result_html(result: SqlResult, limit: int = 200) -> str:
    """The first ``limit`` rows of a SQL result as a table."""
    rows = [_row(*result.columns, header=True)]
    rows += [_row(*(_cell(v) for v in row)) for row in result.head(limit)]
    shown = min(len(result), limit)
    more = " (truncated by the platform)" if result.truncated else ""
    note = f"<i>{shown} of {len(result)} rows{more}</i>"
    return f"{_TABLE}{''.join(rows)}</table>{note}"
