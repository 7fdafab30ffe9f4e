"""Tabular results of SQL run on a platform: columns, typed rows, pandas, Arrow and notebooks.

A result is held either row by row (the ``local`` platform) or column by column (Databricks:
numpy columns straight from the C++ core, so a million rows reach pandas without a Python
object per number); ``rows`` is built on first use from the columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy
    import pandas
    import pyarrow

__all__ = ["SqlColumn", "SqlResult"]


@dataclass(frozen=True)
class SqlColumn:
    """One column of a columnar result: ``values`` (a numpy array or a list of Python
    objects) and ``mask`` (numpy bool, True where the value is NULL; None when no value is)."""

    name: str
    type_name: str
    values: Any
    mask: numpy.ndarray | None = None

    def python_values(self) -> list[Any]:
        """The values as Python objects, None for NULL."""
        import numpy as np

        values = self.values
        out: list[Any]
        if isinstance(values, np.ndarray):
            if values.dtype.kind == "M":  # datetime64: dates and UTC timestamps
                out = values.astype(object).tolist()
                if self.type_name == "TIMESTAMP":
                    from datetime import timezone

                    out = [v if v is None else v.replace(tzinfo=timezone.utc) for v in out]
            else:
                out = values.tolist()
        else:
            out = list(values)
        if self.mask is not None:
            for i in self.mask.nonzero()[0].tolist():
                out[i] = None
        return out

    def pandas_values(self) -> Any:
        """The values as pandas holds them: nullable integer/boolean arrays, float NaN,
        datetime64 with NaT, objects otherwise."""
        import numpy as np
        import pandas as pd

        values = self.values
        mask = self.mask
        if not isinstance(values, np.ndarray):
            return values
        if mask is None or not mask.any():
            if values.dtype.kind == "M":
                series = pd.Series(values)
                return series.dt.tz_localize("UTC") if self.type_name == "TIMESTAMP" else series
            return values
        if values.dtype.kind == "i":
            return pd.arrays.IntegerArray(values, mask)
        if values.dtype.kind == "b":
            return pd.arrays.BooleanArray(values, mask)
        if values.dtype.kind == "f":
            return np.where(mask, np.nan, values)
        if values.dtype.kind == "M":
            out = values.copy()
            out[mask] = np.datetime64("NaT")
            series = pd.Series(out)
            return series.dt.tz_localize("UTC") if self.type_name == "TIMESTAMP" else series
        return values


class SqlResult:
    """The rows of one SQL statement. ``len()`` and iteration go over the rows (tuples);
    ``truncated`` says the platform produced more rows than it returned."""

    def __init__(
        self,
        columns: Sequence[str],
        rows: Sequence[tuple[Any, ...]] | None = None,
        column_types: Sequence[str] = (),
        truncated: bool = False,
        rows_changed: int = 0,
        platform: str = "",
        *,
        column_data: Sequence[SqlColumn] | None = None,
        statement_id: str = "",
    ) -> None:
        if (rows is None) == (column_data is None):
            raise ValueError("a SqlResult holds rows or column_data")
        self.columns = list(columns)
        self.column_types = list(column_types)
        self.truncated = truncated
        self.rows_changed = rows_changed
        self.platform = platform
        self.statement_id = statement_id
        self._column_data = None if column_data is None else list(column_data)
        if rows is not None:
            self.__dict__["rows"] = list(rows)

    @cached_property
    def rows(self) -> list[tuple[Any, ...]]:
        """Every row as a tuple of Python values (None for NULL)."""
        assert self._column_data is not None
        return list(zip(*(c.python_values() for c in self._column_data), strict=True))

    def __len__(self) -> int:
        if "rows" not in self.__dict__ and self._column_data:
            return len(self._column_data[0].values)
        return len(self.rows)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.rows)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SqlResult):
            return NotImplemented
        return (self.columns, self.rows, self.truncated) == (
            other.columns,
            other.rows,
            other.truncated,
        )

    __hash__ = None  # type: ignore[assignment]

    def head(self, n: int = 5) -> list[tuple[Any, ...]]:
        """The first ``n`` rows (without building the others of a columnar result)."""
        if "rows" in self.__dict__ or self._column_data is None:
            return self.rows[:n]
        part = [
            SqlColumn(c.name, c.type_name, c.values[:n], None if c.mask is None else c.mask[:n])
            for c in self._column_data
        ]
        return list(zip(*(c.python_values() for c in part), strict=True))

    def to_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def to_pandas(self) -> pandas.DataFrame:
        """The rows as a DataFrame (pandas must be installed: ``pip install aadap[pandas]``).
        Columnar results keep their types: nullable Int64/boolean, float64, datetime64 (UTC for
        timestamps), objects (str, Decimal, parsed JSON) otherwise."""
        import pandas

        frame: pandas.DataFrame
        if self._column_data is not None:
            # keyed by position, named after: duplicate column names survive
            frame = pandas.DataFrame(
                {i: c.pandas_values() for i, c in enumerate(self._column_data)}, copy=False
            )
            frame.columns = pandas.Index(self.columns)
        else:
            frame = pandas.DataFrame.from_records(self.rows, columns=self.columns)
        return frame

    def to_arrow(self) -> pyarrow.Table:
        """The rows as a pyarrow Table (``pip install aadap[arrow]``)."""
        import pyarrow

        if self._column_data is None:
            return pyarrow.Table.from_pandas(self.to_pandas(), preserve_index=False)
        arrays = []
        for c in self._column_data:
            import numpy as np

            if isinstance(c.values, np.ndarray) and c.values.dtype.kind in "ibfM":
                values = c.values
                if c.type_name == "TIMESTAMP":
                    array = pyarrow.array(values, type=pyarrow.timestamp("us", tz="UTC"),
                                          mask=c.mask)  # fmt: skip
                else:
                    array = pyarrow.array(values, mask=c.mask)
            else:
                array = pyarrow.array(c.python_values())
            arrays.append(array)
        return pyarrow.Table.from_arrays(arrays, names=self.columns)

    def __repr__(self) -> str:
        more = ", truncated" if self.truncated else ""
        return f"SqlResult({len(self)} rows x {len(self.columns)} columns{more})"

    def _repr_html_(self) -> str:
        from aadap.notebook import sql_result_html

        return sql_result_html(self)
