"""Bring an older store up to the current schema: add the columns it lacks."""

from __future__ import annotations

from sqlalchemy import Engine, MetaData, inspect, text


def add_missing_columns(engine: Engine, metadata: MetaData) -> list[str]:
    """ALTER TABLE ... ADD COLUMN for every column of `metadata` an existing table lacks.

    Every column added after a table first shipped has a server default, so rows already
    stored get it. Returns the columns added, as table.column.
    """
    inspector = inspect(engine)
    present = set(inspector.get_table_names())
    added: list[str] = []
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            if table.name not in present:
                continue
            have = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in have:
                    continue
                kind = column.type.compile(dialect=engine.dialect)
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
