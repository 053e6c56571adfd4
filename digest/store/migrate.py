"""Add the columns an older table lacks (used by the initial Alembic revision)."""

from __future__ import annotations

from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection


def add_missing_columns(conn: Connection, metadata: MetaData) -> list[str]:
    """ALTER TABLE ... ADD COLUMN for every column of `metadata` an existing table lacks.

    Every column added after a table first shipped has a server default, so rows already
    stored get it. Returns the columns added, as table.column.
    """
    inspector = inspect(conn)
    present = set(inspector.get_table_names())
    added: list[str] = []
    for table in metadata.sorted_tables:
        if table.name not in present:
            continue
        have = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in have:
                continue
            kind = column.type.compile(dialect=conn.dialect)
            default = column.server_default
            clause = ""
            if default is not None:
                value = str(getattr(default, "arg", "")).replace("'", "''")
                clause = f" NOT NULL DEFAULT '{value}'"
            conn.execute(
                text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}{clause}')
            )
            added.append(f"{table.name}.{column.name}")
    return added
