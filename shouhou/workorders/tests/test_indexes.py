"""The tables every intake writes carry no index that another one already covers.

Each index costs every insert (CPU, WAL, and a full page image after each checkpoint);
docs/workorders.md, "Intake under load". An index is redundant here when its columns are the
leading columns of another index on the same table (and it is neither unique nor partial, which
would give it a meaning of its own), or when it is a ``varchar_pattern_ops`` twin that only
``LIKE 'x%'`` queries would use (none does).
"""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

INTAKE_TABLES = (
    "workorders_workorder",
    "workorders_workorderevent",
    "customers_customer",
    "customers_address",
    "sla_slaclock",
)


def _indexes(table: str) -> list[tuple[str, list[str], bool, bool, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname,
                   array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)
                         JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                         ORDER BY k.n),
                   x.indisunique, x.indpred IS NOT NULL, pg_get_indexdef(x.indexrelid)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname = %s
            """,
            [table],
        )
        return [
            (name, list(columns), unique, partial, sql)
            for name, columns, unique, partial, sql in cursor.fetchall()
        ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's catalogue")
@pytest.mark.parametrize("table", INTAKE_TABLES)
def test_no_index_is_covered_by_another(table):
    indexes = _indexes(table)
    assert indexes, f"{table} has no indexes: wrong table name?"
    redundant = []
    for name, columns, unique, partial, sql in indexes:
        if "pattern_ops" in sql:
            redundant.append(f"{name}: a LIKE-prefix index")
            continue
        if unique or partial:
            continue
        for other, other_columns, _unique, other_partial, _sql in indexes:
            if (
                other != name
                and not other_partial
                and len(other_columns) > len(columns)
                and other_columns[: len(columns)] == columns
            ):
                redundant.append(f"{name}: covered by {other}")
    assert redundant == []
