"""Where a projection's rows physically live: each build version has its own tables
(`rm_customers_v3`), and readers read through views named as the logical tables
(`rm_customers`) that point at the live version's."""

from __future__ import annotations

from sqlalchemy import MetaData, Table, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import quoted_name


def physical_name(table: Table, version: int) -> str:
    return f"{table.name}_v{version}"


def physical_tables(logical: list[Table], version: int) -> dict[str, Table]:
    """The tables of one version: same columns, versioned table and index names."""
    md = MetaData()
    tables = {}
    for table in logical:
        copy = table.to_metadata(md, name=physical_name(table, version))
        only_on = {index.name: index._ddl_if for index in table.indexes}  # to_metadata drops ddl_if
        for index in copy.indexes:
            index._ddl_if = only_on.get(index.name)
            # Index names are per schema on PostgreSQL; unnamed ones derive from the table name.
            if isinstance(index.name, str) and not index.name.startswith("ix_"):
                index.name = quoted_name(f"{index.name}_v{version}", None)
        tables[table.name] = copy
    return tables


def view_names(conn: Connection) -> list[str]:
    return list(inspect(conn).get_view_names())


def point_views(conn: Connection, logical: list[Table], version: int, *, replace: bool) -> None:
    """Make each logical table's view select from the version's table; views that exist are
    left as they are unless `replace`."""
    preparer = conn.dialect.identifier_preparer
    existing = set(view_names(conn))
    for table in logical:
        view = preparer.quote(table.name)
        if table.name in existing:
            if not replace:
                continue
            conn.execute(text(f"DROP VIEW {view}"))
        source = preparer.quote(physical_name(table, version))
        conn.execute(text(f"CREATE VIEW {view} AS SELECT * FROM {source}"))


def analyze(engine: Engine, tables: list[Table]) -> None:
    """Statistics for tables just built or filled, on PostgreSQL: without them the planner takes
    100,000 customers for a few hundred and scans where an index would serve (seen in
    B3: the pool page 37 ms instead of 2.5 ms). Autovacuum would get there in its own
    time, if it is on. VACUUM also marks the pages all-visible for index-only scans."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")  # VACUUM runs outside a transaction
        for table in tables:
            conn.execute(text(f'VACUUM (ANALYZE) "{table.name}"'))
