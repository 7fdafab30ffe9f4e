"""Tabular results of SQL run on a platform: columns, typed rows, pandas and notebooks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas

__all__ = ["SqlResult"]


@dataclass(frozen=True)
class SqlResult:
    """The rows of one SQL statement. ``len()`` and iteration go over the rows (tuples);
    ``truncated`` says the platform produced more rows than it returned."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    column_types: list[str] = field(default_factory=list)
    truncated: bool = False
    rows_changed: int = 0
    platform: str = ""

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.rows)

    def to_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def to_pandas(self) -> pandas.DataFrame:
        """The rows as a DataFrame (pandas must be installed: ``pip install aadap[pandas]``)."""
        import pandas

        frame: pandas.DataFrame = pandas.DataFrame.from_records(self.rows, columns=self.columns)
        return frame

    def __repr__(self) -> str:
        more = ", truncated" if self.truncated else ""
        return f"SqlResult({len(self.rows)} rows x {len(self.columns)} columns{more})"

    def _repr_html_(self) -> str:
        from aadap.notebook import sql_result_html

        return sql_result_html(self)
