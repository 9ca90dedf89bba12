"""Small typed helpers over DuckDB / psycopg cursors (one row, one value), so callers stay short and mypy-clean."""

from typing import Any, Protocol


class _Cursor(Protocol):
    def fetchone(self) -> Any: ...


def one(cursor: _Cursor) -> tuple:
    """The single row a query returns (an aggregate): raises if there is none."""
    row = cursor.fetchone()
    if row is None:
        raise LookupError("the query returned no row")
    return tuple(row)


def scalar(cursor: _Cursor) -> Any:
    """The first value of the single row a query returns."""
    return one(cursor)[0]
