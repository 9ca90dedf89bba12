"""One ingestion asset per source entity, each with its Great Expectations suite as an asset check."""

import os
from typing import Any

import dagster as dg

from pipelines.config import ConfigError, pii_key, settings
from pipelines.defs.operations import WAREHOUSE_POOL, permanent, retry_policy, storage_guard
from pipelines.lib.entities import ENTITIES, Entity
from pipelines.lib.ingest import IngestReport, ingest_entity

DEFAULT_MAX_BAD_ROW_SHARE = 0.05


def max_bad_row_share() -> float:
    """Above this share of quarantined rows in a batch the suite's check fails and blocks the models."""
    return float(os.environ.get("KKB_MAX_BAD_ROW_SHARE", DEFAULT_MAX_BAD_ROW_SHARE))


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
        "rows_superseded_all_batches": report.rows_superseded_total if report.rows_superseded_total is not None else 0,
        "seconds": round(report.seconds, 2),
        "rows_per_second": round(report.rows_read / report.seconds) if report.seconds and report.rows_read else 0,
        "data_docs": dg.MetadataValue.path(str(report.data_docs)) if report.data_docs else "none (no new rows)",
        "top_failure_reasons": dg.MetadataValue.md(
            _markdown_table(("rule", "rows"), report.rule_counts.most_common(10)) if report.rule_counts else "none"
        ),
        "rejected_files": dg.MetadataValue.md(
            _markdown_table(("file", "reason"), [(f.path, f.reason) for f in rejected]) if rejected else "none"
        ),
    }


def check_result(entity: Entity, report: IngestReport) -> dg.AssetCheckResult:
    share, limit = report.bad_row_share, max_bad_row_share()
    meta: dict[str, Any] = {
        "bad_row_share": round(share, 6),
        "threshold": limit,
        "rows_checked": report.rows_read,
        "rows_failed": report.rows_quarantined,
        "files_rejected": len(report.files_with("rejected")),
        "suite": f"expectations/gx/expectations/{entity.suite}.json",
    }
    unknown = [(f.path, f.unknown_columns) for f in report.files if f.unknown_columns]
    if unknown:
        meta["unknown_columns"] = dg.MetadataValue.md(_markdown_table(("file", "columns not in the spec"), unknown))
    if share == 0 and not report.files_with("rejected") and not unknown:
        return dg.AssetCheckResult(check_name=check_name(entity), passed=True, metadata=meta)
    severity = dg.AssetCheckSeverity.ERROR if share > limit else dg.AssetCheckSeverity.WARN
    problems = [f"{share:.2%} of new rows quarantined (blocking above {limit:.0%}); see quarantine/{entity.name}/"]
    if unknown:
        problems.append(
            f"{len(unknown)} file(s) carry columns not in the spec (loaded without them; the raw file keeps them): "
            + "; ".join(f"{p}: {c}" for p, c in unknown[:5])
        )
    return dg.AssetCheckResult(
        check_name=check_name(entity), passed=False, severity=severity, metadata=meta, description=" ".join(problems)
    )


def build_ingest_asset(entity: Entity) -> dg.AssetsDefinition:
    @dg.asset(
        key=landing_key(entity),
        name=None,
        group_name=f"ingest_{entity.group}",
        kinds={"python", "parquet"},
        description=f"{entity.description} Raw files: raw/{entity.folder}/ (any name, any depth).",
        deps=[dg.AssetKey(["reference", "wilayah"]), *[landing_key(ENTITIES[o]) for o, _ in entity.lookups.values()]],
        check_specs=[
            dg.AssetCheckSpec(
                check_name(entity),
                asset=landing_key(entity),
                blocking=True,
                description=f"Great Expectations suite '{entity.suite}': share of quarantined rows in the batch.",
            )
        ],
        tags={"source": entity.group},
        pool=WAREHOUSE_POOL,
        retry_policy=retry_policy(),
    )
    def _ingest(context: dg.AssetExecutionContext):
        try:
            key = pii_key()
        except ConfigError as exc:
            raise permanent(str(exc)) from exc
        s = settings()
        with storage_guard(s.warehouse_dir):
            report = ingest_entity(entity, s, key)
        context.log.info(
            f"{entity.name}: {report.rows_landed} landed, {report.rows_quarantined} quarantined, "
            f"{len(report.files_with('duplicate'))} duplicate and {len(report.files_with('rejected'))} rejected files"
        )
        yield dg.MaterializeResult(metadata=report_metadata(report))
        yield check_result(entity, report)

    return _ingest


INGEST_ASSETS = [build_ingest_asset(e) for e in ENTITIES.values()]

# The file manifest (landing/_manifest/) is written by every ingestion asset; dbt reads it as source landing.manifest.
MANIFEST_SPEC = dg.AssetSpec(
    ["landing", "manifest"],
    group_name="ingest_manifest",
    kinds={"parquet"},
    description="One row per raw file seen: content hash, status (loaded / duplicate / rejected) and reason, rows "
    "landed and quarantined. Written by the ingestion assets as each batch commits.",
    deps=[landing_key(e) for e in ENTITIES.values()],
)
