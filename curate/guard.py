"""Per-record guards: an unexpected exception on one document removes that document, with
a reason and the exception's class and message, instead of failing the task (and with it
the job and every other file's work).

``guarded`` runs a batch kernel over the whole Arrow batch (the fast path); only if that
raises does it run the kernel over each row alone, so just the failing rows are set
aside. Spark-free: the stages call it inside ``mapInArrow``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

MESSAGE_CHARS = 300


def message(exc: BaseException) -> str:
    """``ClassName: message`` on one line, bounded."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:MESSAGE_CHARS]


def with_error(schema: pa.Schema, column: str) -> pa.Schema:
    return schema.append(pa.field(column, pa.string()))


def _failed_row(row: pa.RecordBatch, schema: pa.Schema, column: str, error: str):
    """The row's own values of the columns the kernel keeps, nulls for the rest."""
    arrays = []
    for field in schema:
        if field.name in row.schema.names and row.schema.field(field.name).type == field.type:
            arrays.append(row.column(field.name))
        else:
            arrays.append(pa.nulls(1, field.type))
    arrays.append(pa.array([error], pa.string()))
    return pa.RecordBatch.from_arrays(arrays, schema=with_error(schema, column))


def _ok(out: pa.RecordBatch, column: str) -> pa.RecordBatch:
    return out.append_column(pa.field(column, pa.string()), pa.nulls(out.num_rows, pa.string()))


def guarded(
    batch: pa.RecordBatch,
    kernel: Callable[[pa.RecordBatch], pa.RecordBatch],
    schema: pa.Schema,
    column: str,
) -> pa.RecordBatch:
    """``kernel(batch)`` (one output row per input row, ``schema``) plus a string column
    ``column``: null where the kernel ran, the exception where it raised on that row."""
    try:
        return _ok(kernel(batch), column)
    except Exception:  # some row fails: find which, keep the others
        pass
    target = with_error(schema, column)
    rows = []
    for i in range(batch.num_rows):
        row = batch.slice(i, 1)
        try:
            rows.append(_ok(kernel(row), column).cast(target))
        except Exception as exc:
            rows.append(_failed_row(row, schema, column, message(exc)))
    return pa.Table.from_batches(rows, schema=target).combine_chunks().to_batches()[0]


def error_examples(df: DataFrame, column: str, reason: str) -> dict[str, list[str]]:
    """Two of the messages in ``column`` (the smallest and largest), as stats.json's
    examples of ``reason``; none when the column is absent or all null."""
    if column not in df.columns:
        return {}
    from pyspark.sql import functions as F

    row = df.where(F.col(column).isNotNull()).agg(F.min(column), F.max(column)).first()
    return {reason: sorted({row[0], row[1]})} if row[0] is not None else {}
