"""Publishing for BI tools: the snapshot (DuckDB file + Parquet), when configured the PostgreSQL schema, and the
Kampung KB report (static HTML) made from the snapshot.

Both run after the dbt build; a failed blocking check or dbt test upstream stops the run before them, so BI tools
keep the previous snapshot.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from pipelines.config import settings
from pipelines.defs.dbt import dbt_project
from pipelines.defs.operations import OWNERS, WAREHOUSE_POOL, permanent, retry_policy, storage_guard
from pipelines.lib import engines, pg_serving, publish, report
from pipelines.lib.entities import ENTITIES

SNAPSHOT_KEY = dg.AssetKey(["bi", "snapshot"])
POSTGRES_KEY = dg.AssetKey(["bi", "postgres"])
REPORT_KEY = dg.AssetKey(["report", "kampung_kb"])


def dbt_descriptions(manifest_path: Path) -> dict[str, tuple[str, dict[str, str]]]:
    """Model and column descriptions from the dbt manifest (shown by BI tools as table/column comments)."""
    if not manifest_path.exists():
        return {}
    nodes = json.loads(manifest_path.read_text())["nodes"].values()
    return {
        n["name"]: (n.get("description", ""), {c: v.get("description", "") for c, v in n.get("columns", {}).items()})
        for n in nodes
        if n["resource_type"] in ("model", "seed")
    }


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            SNAPSHOT_KEY,
            owners=OWNERS,
            tags={"layer": "publish"},
            group_name="publish",
            # the tables it reads, and every ingestion asset: a failed blocking check anywhere stops the publication
            deps=[*(dg.AssetKey(t) for t in publish.BI_TABLES), *(dg.AssetKey(["landing", e]) for e in ENTITIES)],
            kinds={"duckdb", "parquet"},
            description=(
                "What BI tools read: warehouse/bi/kampung_kb_bi.duckdb and warehouse/bi/parquet/<table>/. Dimensions "
                "without personal data and the reporting marts with counts below 5 suppressed; scanned for personal "
                "data, verified, then swapped in atomically (the last few kept for `kkb bi rollback`)."
            ),
            skippable=True,  # nothing to publish when the marts live in another engine (below)
        )
    ],
    check_specs=[
        dg.AssetCheckSpec("no_personal_data", asset=SNAPSHOT_KEY, description="Scan of every published column."),
        dg.AssetCheckSpec("small_cells_suppressed", asset=SNAPSHOT_KEY, description="Counts 1-4 and complements."),
    ],
    # a multi-asset only so that the checks may be skipped with the snapshot (an @asset's checks are required)
    can_subset=True,
    pool=WAREHOUSE_POOL,
    retry_policy=retry_policy(),
)
def bi_snapshot(context: dg.AssetExecutionContext) -> Iterator:
    s = settings()
    target = engines.target_from_env()
    if target != "duckdb":
        # The snapshot, its PostgreSQL copy and the report are made from the DuckDB warehouse file. With the marts
        # in PostgreSQL or Spark, BI tools read them there (docs/scale-out.md); the steps after this one are skipped.
        context.log.info(f"KKB_DBT_TARGET={target}: the marts are in {target}; no DuckDB BI snapshot is published")
        return
    try:
        pub = publish.publish(
            s.duckdb_path,
            s.bi_dir,
            run_id=context.run.run_id,
            descriptions=dbt_descriptions(dbt_project.manifest_path),
            known_pseudonyms=publish.landed_pseudonyms(s.landing_dir),
        )
    except publish.PublishError as exc:
        raise permanent(f"{exc}. BI tools keep the previous snapshot.") from exc
    context.log.info(f"published {pub.id} to {pub.path} ({pub.bytes:,} bytes); Parquet at {pub.parquet_dir}")
    yield dg.MaterializeResult(
        metadata={
            "publication_id": pub.id,
            "path": dg.MetadataValue.path(str(pub.path)),
            "parquet": dg.MetadataValue.path(str(pub.parquet_dir)),
            "bytes": pub.bytes,
            "storage_version": pub.storage_version,
            "tables": dg.MetadataValue.md(
                "| table | rows |\n|---|---|\n" + "\n".join(f"| {t} | {n:,} |" for t, n in pub.tables.items())
            ),
            "publications_removed": ", ".join(pub.removed) or "none",
        }
    )
    yield dg.AssetCheckResult(
        check_name="no_personal_data",
        passed=True,  # a finding stops the publication before this point
        metadata={f"{k}_scanned": v for k, v in pub.scan_coverage.items()},
    )
    rep = pub.suppression
    yield dg.AssetCheckResult(
        check_name="small_cells_suppressed",
        passed=True,  # the scan refuses any count 1-4 left visible
        metadata={
            "cells": rep.cells,
            "hidden_primary": rep.primary,
            "hidden_complementary": rep.complementary,
            "rounds": rep.rounds,
            "per_table": dg.MetadataValue.json(rep.per_table),
        },
    )


@dg.asset(
    owners=OWNERS,
    tags={"layer": "publish"},
    key=POSTGRES_KEY,
    group_name="publish",
    deps=[SNAPSHOT_KEY],
    kinds={"postgres"},
    output_required=False,
    retry_policy=retry_policy(),
    description=(
        "The BI snapshot's tables in a PostgreSQL schema (default `bi`) readable by the `bi_reader` role only, "
        "swapped in one transaction. Off unless KKB_PG_DSN is set."
    ),
)
def bi_postgres(context: dg.AssetExecutionContext) -> Iterator:
    target = pg_serving.target_from_env()
    if target is None:
        context.log.info("PostgreSQL serving tier is off (KKB_PG_DSN is not set); nothing to do")
        return
    rows = pg_serving.load(settings().bi_dir / publish.SNAPSHOT_NAME, target)
    yield dg.MaterializeResult(
        metadata={
            "schema": target.schema,
            "reader_role": target.reader_role,
            "tables": len(rows),
            "rows": sum(rows.values()),
        }
    )


@dg.asset(
    owners=OWNERS,
    tags={"layer": "publish"},
    key=REPORT_KEY,
    group_name="publish",
    deps=[SNAPSHOT_KEY],
    kinds={"html"},
    retry_policy=retry_policy(),
    description=(
        "Laporan Kampung KB: a static HTML page with charts (Indonesian), made from the published BI snapshot after "
        "each publication: coverage, CPR / unmet need / MKJP, SKDN and stunting, classes, reporting, a table per "
        "kecamatan. Open warehouse/report/index.html in a browser (works offline; plotly.min.js lies beside it)."
    ),
)
def kampung_kb_report(context: dg.AssetExecutionContext) -> Iterator:
    s = settings()
    with storage_guard(s.warehouse_dir):
        info = report.render(s.bi_dir / publish.SNAPSHOT_NAME, s.report_dir)
    context.log.info(f"report for publication {info.publication} written to {info.path}")
    yield dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(info.path)),
            "publication": info.publication,
            "newest_period": info.newest_period or 0,
            "provinces": len(info.provinces),
            "charts": info.charts,
            "hidden_cells_shown": info.hidden_cells_shown,
            "preview": dg.MetadataValue.md(info.summary_markdown or "no report rows in this publication"),
        }
    )


PUBLISH_ASSETS = [bi_snapshot, bi_postgres, kampung_kb_report]
