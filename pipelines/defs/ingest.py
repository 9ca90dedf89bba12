"""One ingestion asset per source entity, each with its Great Expectations suite as an asset check."""

import sys
from typing import Any

import dagster as dg

from pipelines.config import ConfigError, pii_key, settings
from pipelines.defs.operations import OWNERS, WAREHOUSE_POOL, permanent, retry_policy, storage_guard
from pipelines.defs.partitions import partitions_for
from pipelines.lib import sources
from pipelines.lib.deliveries import broken, deliveries, max_bad_row_share, min_delivery_rows
from pipelines.lib.entities import ENTITIES, Entity
from pipelines.lib.ingest import IngestReport, ingest_entity
from pipelines.lib.landing import parquet_rows
from pipelines.lib.rebuild import RebuildRefused, RebuildReport, rebuild_periods, rows_in_period

PARTITION_NOTE = {
    "month": " Partitioned by month (of the report / event / measurement): materialise a month, or backfill a range, "
    "to rebuild it from the raw files with the current rules. The nightly run loads new files, whatever their month.",
    "year": " Partitioned by year (the PK round): materialise a year to rebuild it from the raw files with the current "
    "rules. The nightly run loads new files, whatever their year.",
}


LINEAGE_DOCS = {
    "_file": "raw file the row came from (path under raw/)",
    "_file_sha256": "content hash of that file",
    "_row": "row number in that file (line for CSV, row for XLSX, line for JSONL)",
    "_batch": "ingest batch that first loaded the file",
    "_ingested_at": "when that batch ran (UTC)",
}


def column_schema(entity: Entity) -> dg.TableSchema:
    """The landed columns (personal ones already pseudonymised or turned into ages) and the lineage columns."""
    notes = {c.land_as or f"{c.name}_hash": "HMAC-SHA256 pseudonym" for c in entity.columns if c.type == "pii"}
    notes |= {
        c.land_as or "umur": f"age in {c.age_unit} (birth date dropped)"
        for c in entity.columns
        if c.type == "birth_date"
    }
    columns = [dg.TableColumn(n, t, description=notes.get(n)) for n, t in entity.landing_columns]
    columns += [dg.TableColumn(n, "lineage", description=d) for n, d in LINEAGE_DOCS.items()]
    return dg.TableSchema(columns=columns)


def landing_key(entity: Entity) -> dg.AssetKey:
    return dg.AssetKey(["landing", entity.name])


def check_name(entity: Entity) -> str:
    return f"suite_{entity.suite}"


def _markdown_table(header: tuple[str, ...], rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def report_metadata(report: IngestReport) -> dict:
    rejected = report.files_with("rejected")
    notes = file_notes(report.files)
    # absent when the batch landed nothing (unchanged, not recounted) or the entity has no key
    total = report.rows_superseded_total
    superseded = {"rows_superseded_all_batches": total} if total is not None else {}
    return {
        "batch": report.batch or "(no new files)",
        "files_read": len(report.files_with("loaded")),
        "files_duplicate": len(report.files_with("duplicate")),
        "files_rejected": len(rejected),
        "files_already_seen": report.files_already_seen,
        "rows_read": report.rows_read,
        "rows_landed": report.rows_landed,
        "rows_quarantined": report.rows_quarantined,
        "rows_in_duplicate_files": report.rows_duplicate,
        **superseded,
        "seconds": round(report.seconds, 2),
        "rows_per_second": round(report.rows_read / report.seconds) if report.seconds and report.rows_read else 0,
        "data_docs": dg.MetadataValue.path(str(report.data_docs)) if report.data_docs else "none (no new rows)",
        "top_failure_reasons": dg.MetadataValue.md(
            _markdown_table(("rule", "rows"), report.rule_counts.most_common(10)) if report.rule_counts else "none"
        ),
        "rejected_files": dg.MetadataValue.md(
            _markdown_table(("file", "reason"), [(f.path, f.reason) for f in rejected]) if rejected else "none"
        ),
        "rows_skipped": sum(f.rows_skipped for f in report.files),
        # what was read and left out, per file: rows that are not data, sheets not read, files with no rows
        "files_notes": dg.MetadataValue.md(_markdown_table(("file", "what was left out"), notes) if notes else "none"),
        "files_waiting": dg.MetadataValue.md(
            "changed less than KKB_SETTLE_SECONDS ago, read next run: " + ", ".join(report.files_settling[:20])
            if report.files_settling
            else "none"
        ),
    }


def file_notes(files: list) -> list[tuple[str, str]]:
    """(file, what of it was not read as data): skipped rows, sheets not read, a header-only file."""
    out = []
    for f in files:
        parts = [p for p in (f.note, f.skipped_rows) if p]
        parts += [s for s in (f.sheets or "").split("; ") if "not read" in s or "hidden" in s]
        if parts:
            out.append((f.path, "; ".join(parts)))
    return out


def rebuild_metadata(rebuild: RebuildReport) -> dict:
    rows = [
        (p, *rebuild.before[p], *rebuild.after[p])
        for p in rebuild.periods
        if rebuild.before[p] != (0, 0) or rebuild.after[p] != (0, 0)
    ]
    return {
        "rebuilt_periods": f"{rebuild.periods[0]} .. {rebuild.periods[-1]} ({len(rebuild.periods)})",
        "rebuild_batch": rebuild.batch,
        "rebuild_files_read": len(rebuild.files),
        "rebuild_rows_landed": rebuild.rows_landed,
        "rebuild_rows_quarantined": rebuild.rows_quarantined,
        "rebuild_seconds": round(rebuild.seconds, 2),
        "rebuild_before_after": dg.MetadataValue.md(
            _markdown_table(
                ("period", "landed before", "quarantined before", "landed after", "quarantined after"), rows
            )
            if rows
            else "no rows in these periods"
        ),
    }


def check_result(entity: Entity, report: IngestReport, rebuild: RebuildReport | None = None) -> dg.AssetCheckResult:
    """The suite's verdict on the rows this run validated (the new files' and, in a partition run, the rebuilt
    ones): ERROR, which blocks the models, only when a delivery large enough to judge is broken (most of its rows
    quarantined: pipelines/lib/deliveries.py); WARN when some rows were quarantined, a file was rejected or carries
    columns not in the spec."""
    files = [*report.files, *(rebuild.files if rebuild else [])]
    rows_read = report.rows_read + (rebuild.rows_read if rebuild else 0)
    rows_failed = report.rows_quarantined + (rebuild.rows_quarantined if rebuild else 0)
    share = rows_failed / rows_read if rows_read else 0.0
    try:
        limit, min_rows = max_bad_row_share(), min_delivery_rows()
    except ConfigError as exc:
        raise permanent(str(exc)) from exc
    found = deliveries(files, min_rows)
    over = broken(found, limit, min_rows)
    rejected = [f for f in files if f.status == "rejected"]
    meta: dict[str, Any] = {
        "bad_row_share": round(share, 6),
        "threshold": limit,
        "min_delivery_rows": min_rows,
        "rows_checked": rows_read,
        "rows_failed": rows_failed,
        "deliveries": len(found),
        "deliveries_over_threshold": len(over),
        "files_rejected": len(rejected),
        "suite": f"expectations/gx/expectations/{entity.suite}.json",
    }
    if found and rows_failed:
        worst = sorted(found, key=lambda d: (-d.share, -d.rows_read))[:10]
        meta["worst_deliveries"] = dg.MetadataValue.md(
            _markdown_table(
                ("delivery", "rows", "quarantined", "share", "judged"),
                [
                    (
                        d.name,
                        d.rows_read,
                        d.rows_quarantined,
                        f"{d.share:.1%}",
                        "yes" if d.rows_read >= min_rows else "too small",
                    )
                    for d in worst
                ],
            )
        )
    unknown = [(f.path, f.unknown_columns) for f in report.files if f.unknown_columns]
    if unknown:
        meta["unknown_columns"] = dg.MetadataValue.md(_markdown_table(("file", "columns not in the spec"), unknown))
    if report.files_settling:
        meta["files_waiting"] = len(report.files_settling)
    if share == 0 and not rejected and not unknown:
        return dg.AssetCheckResult(
            asset_key=landing_key(entity), check_name=check_name(entity), passed=True, metadata=meta
        )
    problems = []
    if over:
        problems.append(
            f"{len(over)} deliver{'y is' if len(over) == 1 else 'ies are'} broken (more than {limit:.0%} of its rows "
            f"quarantined, judged from {min_rows} rows): "
            + "; ".join(f"{d.name}: {d.rows_quarantined:,} of {d.rows_read:,} rows" for d in over[:5])
            + f". The models wait until it is looked at: see quarantine/{entity.name}/"
        )
    if rows_failed:
        n = sum(1 for d in found if d.rows_quarantined)
        problems.append(
            f"{rows_failed:,} of {rows_read:,} rows quarantined ({share:.2%}), in {n} deliver{'y' if n == 1 else 'ies'}"
            f"; see quarantine/{entity.name}/"
        )
    if rejected:
        problems.append(
            f"{len(rejected)} file(s) rejected: " + "; ".join(f"{f.path}: {f.reason}" for f in rejected[:3])
        )
    if unknown:
        problems.append(
            f"{len(unknown)} file(s) carry columns not in the spec (loaded without them; the raw file keeps them): "
            + "; ".join(f"{p}: {c}" for p, c in unknown[:5])
        )
    return dg.AssetCheckResult(
        asset_key=landing_key(entity),
        check_name=check_name(entity),
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR if over else dg.AssetCheckSeverity.WARN,
        metadata=meta,
        description=" ".join(problems),
    )


def mark_periods(context: dg.AssetExecutionContext, entity: Entity, report: IngestReport, skip: set[str]) -> None:
    """Record the periods a nightly batch brought rows for as materialised partitions (the UI's partition bar)."""
    partitions = partitions_for(entity)
    if partitions is None or report.batch is None:
        return
    for period in sorted(report.periods - skip):
        if partitions.has_partition_key(period):  # not, e.g., the month of a report dated in the future
            landed, quarantined = rows_in_period(settings(), entity.name, period)
            meta: dict[str, Any] = {"batch": report.batch, "dagster/row_count": landed, "rows_quarantined": quarantined}
            context.log_event(dg.AssetMaterialization(asset_key=landing_key(entity), partition=period, metadata=meta))


def ingest_one(context: dg.AssetExecutionContext, entity: Entity, key: bytes, periods: list[str]):
    """Load the new files of one entity and, in a partition run, rebuild its periods; yield result and check."""
    s = settings()
    with storage_guard(s.warehouse_dir):
        progress = sys.stderr.isatty()  # bars for a person at a terminal (`kkb run`), not in the UI's logs
        # an entity with an HTTP endpoint (sources.yaml) is pulled into its raw folder first; not in a partition run
        try:
            pulled, pull_error, retry_may_help = (
                (None, None, False) if periods else sources.pull_for(entity.name, s.raw_dir, s.warehouse_dir)
            )
        except ConfigError as exc:  # sources.yaml is wrong: a retry cannot fix it
            raise permanent(str(exc)) from exc
        if pulled:
            context.log.info(
                f"{entity.name}: pulled {pulled.records} records in {pulled.pages} page(s) since {pulled.since}, "
                f"{len(pulled.files_written)} new file(s)"
            )
        report = ingest_entity(entity, s, key, progress=progress)
        try:
            rebuild = rebuild_periods(entity, s, key, periods, progress=progress) if periods else None
        except RebuildRefused as exc:
            raise permanent(str(exc)) from exc
    context.log.info(
        f"{entity.name}: {report.rows_landed} landed, {report.rows_quarantined} quarantined, "
        f"{len(report.files_with('duplicate'))} duplicate and {len(report.files_with('rejected'))} rejected files"
        + (
            f"; rebuilt {len(periods)} period(s): {rebuild.rows_landed} landed, {rebuild.rows_quarantined} quarantined"
            if rebuild
            else ""
        )
    )
    mark_periods(context, entity, report, skip=set(periods))
    meta = report_metadata(report) | (rebuild_metadata(rebuild) if rebuild else {}) | sources.pull_metadata(pulled)
    meta["dagster/row_count"] = parquet_rows(settings().landing_dir / entity.name)
    yield dg.MaterializeResult(asset_key=landing_key(entity), metadata=meta)
    yield check_result(entity, report, rebuild)
    if pull_error:
        # what was pulled before the error is loaded; the cursor waits where it stopped for the next pull
        message = f"{entity.name}: {pull_error}. The pages pulled before it were loaded."
        raise dg.Failure(description=message) if retry_may_help else permanent(message)


def build_ingest_assets(entities: tuple[Entity, ...]) -> dg.AssetsDefinition:
    """One step for an entity, or for an entity and those it looks values up in (loaded first, in the same step).

    Why one step: a month-partitioned asset that depends on another month-partitioned asset fails in the
    unpartitioned nightly run (Dagster 1.13 asks the run for a partition range while reading the upstream's data
    version); inside one step the dependency is internal and the order is ours."""
    partitions = {partitions_for(e) for e in entities}
    assert len(partitions) == 1, f"{[e.name for e in entities]} must share one partitions definition"
    [partitions_def] = partitions

    @dg.multi_asset(
        name=f"ingest_{'_'.join(e.name for e in entities)}",
        specs=[
            dg.AssetSpec(
                landing_key(e),
                group_name=f"ingest_{e.group}",
                kinds={"python", "parquet"},
                description=f"{e.description} Raw files: raw/{e.folder}/ (any name, any depth)."
                + PARTITION_NOTE.get(e.period.unit if e.period else "", ""),
                deps=[
                    dg.AssetKey(["reference", "wilayah"]),
                    *[landing_key(ENTITIES[o]) for o, _ in e.lookups.values()],
                ],
                tags={"source": e.group, "layer": "landing"},
                owners=OWNERS,
                metadata={
                    "dagster/column_schema": column_schema(e),
                    "raw_folder": f"raw/{e.folder}/",
                    "suite": f"expectations/gx/expectations/{e.suite}.json",
                    "key": ", ".join(e.key) or "none",
                },
            )
            for e in entities
        ],
        check_specs=[
            dg.AssetCheckSpec(
                check_name(e),
                asset=landing_key(e),
                blocking=True,
                description=f"Great Expectations suite '{e.suite}': rows quarantined per delivery; blocks the models "
                "when a delivery is broken (most of its rows quarantined).",
            )
            for e in entities
        ],
        can_subset=False,
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run() if partitions_def else None,
        pool=WAREHOUSE_POOL,
        retry_policy=retry_policy(),
    )
    def _ingest(context: dg.AssetExecutionContext):
        try:
            key = pii_key()
        except ConfigError as exc:
            raise permanent(str(exc)) from exc
        partitioned = context.has_partition_key or context.has_partition_key_range
        periods = list(context.partition_keys) if partitioned else []
        for entity in entities:  # in ENTITIES order: a lookup's entity first
            if landing_key(entity) in context.selected_asset_keys:
                yield from ingest_one(context, entity, key, periods)

    return _ingest


def _lookup_groups() -> list[tuple[Entity, ...]]:
    """ENTITIES split into steps: an entity with lookups joins the step of the entities it looks up."""
    groups: list[list[Entity]] = []
    for entity in ENTITIES.values():
        targets = {o for o, _ in entity.lookups.values()}
        joined = [g for g in groups if targets & {e.name for e in g}]
        for g in joined:
            groups.remove(g)
        groups.append([e for g in joined for e in g] + [entity])
    order = list(ENTITIES)
    return sorted((tuple(g) for g in groups), key=lambda g: order.index(g[0].name))


INGEST_ASSETS = [build_ingest_assets(g) for g in _lookup_groups()]

# The file manifest (landing/_manifest/) is written by every ingestion asset; dbt reads it as source landing.manifest.
MANIFEST_SPEC = dg.AssetSpec(
    ["landing", "manifest"],
    group_name="ingest_manifest",
    kinds={"parquet"},
    description="One row per raw file seen: content hash, status (loaded / duplicate / rejected) and reason, rows "
    "landed and quarantined. Written by the ingestion assets as each batch commits.",
    deps=[landing_key(e) for e in ENTITIES.values()],
)
