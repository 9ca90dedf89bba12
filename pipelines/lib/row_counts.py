"""Row counts of the tables dbt built, for the `dagster/row_count` the Dagster UI shows on each model.

dagster-dbt's own `fetch_row_counts()` queries while dbt runs; with DuckDB the dbt process holds the file's write
lock, so that fails. We count once dbt has exited: one read-only connection, one query for all tables. Views are not
counted (a staging view would re-read its Parquet files).
"""

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pipelines.lib import duck

COUNTED = frozenset({"table", "incremental", "seed", "snapshot"})


def counted_relations(manifest: Mapping[str, Any], unique_ids: Iterable[str]) -> dict[str, str]:
    """unique_id -> relation name, for the nodes among `unique_ids` that are stored as tables."""
    nodes = manifest["nodes"]
    out = {}
    for unique_id in unique_ids:
        node = nodes.get(unique_id)
        if node and node.get("relation_name") and node["config"].get("materialized") in COUNTED:
            out[unique_id] = node["relation_name"]
    return out


def table_row_counts(duckdb_path: Path, relations: Mapping[str, str]) -> dict[str, int]:
    """key -> rows of the relation, for every relation that exists; a missing one (its model failed) is left out."""
    if not relations or not duckdb_path.exists():
        return {}
    with duck.connect(str(duckdb_path), read_only=True) as con:
        existing = {
            f'"{database}"."{schema}"."{name}"'
            for database, schema, name in con.execute(
                "select database_name, schema_name, table_name from duckdb_tables()"
            ).fetchall()
        }
        present = {key: rel for key, rel in relations.items() if rel in existing}
        if not present:
            return {}
        keys = list(present)
        union = " union all ".join(f"select {i} as k, count(*) as n from {present[k]}" for i, k in enumerate(keys))
        return {keys[i]: int(n) for i, n in con.execute(union).fetchall()}
