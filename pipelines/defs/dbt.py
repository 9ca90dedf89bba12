"""The dbt project as Dagster assets (dagster-dbt). dbt tests appear as asset checks on the models they test.

The manifest is built at set-up time (`make install` runs `dagster-dbt project prepare-and-package`), never at
import time; `dagster dev` re-prepares it when models change (prepare_if_dev).
"""

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from pipelines.config import DBT_PROJECT_DIR, settings
from pipelines.defs.operations import OWNERS, WAREHOUSE_POOL, permanent, retry_policy
from pipelines.lib import engines, faults
from pipelines.lib.previews import explanation_previews, mart_previews
from pipelines.lib.row_counts import counted_relations, table_row_counts
from pipelines.lib.storage import is_transient

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()

DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))  # the dbt of this virtualenv, whatever PATH says


class KampungKbTranslator(DagsterDbtTranslator):
    """Groups by layer (staging / marts / reporting) so the UI tells the story left to right."""

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return [*OWNERS]

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        """dbt's own metadata (column schema, table name) plus where its documentation page is (`make docs`)."""
        meta = dict(super().get_metadata(dbt_resource_props))
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            route = f"#!/{dbt_resource_props['resource_type']}/{dbt_resource_props['unique_id']}"
            meta["dbt_docs"] = dg.MetadataValue.path(f"warehouse/docs/dbt/index.html{route}")
        return meta

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        group = self.get_group_name(dbt_resource_props) or ""
        layer = {"dbt_staging": "staging", "dbt_intermediate": "intermediate", "dbt_marts": "marts"}.get(group)
        layer = layer or {"dbt_reporting": "reporting", "reference": "reference"}.get(group)
        return {**super().get_tags(dbt_resource_props), **({"layer": layer} if layer else {})}

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"  # code lists and the WHO growth table, beside the Kemendagri region list
        if dbt_resource_props["resource_type"] != "model" and dbt_resource_props["resource_type"] != "snapshot":
            return super().get_group_name(dbt_resource_props)
        fqn = dbt_resource_props.get("fqn", [])
        layer = fqn[1] if len(fqn) > 2 else "models"
        if layer == "marts" and len(fqn) > 3:
            layer = "reporting" if fqn[2] == "reporting" else "marts"
        return f"dbt_{layer}"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=KampungKbTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
    selector="nightly",  # dbt_project/selectors.yml: no unit tests, no staging restatements of the GE suites
    pool=WAREHOUSE_POOL,
)
def kampung_kb_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    s = settings()
    target = engines.target_from_env()  # KKB_DBT_TARGET: duckdb (default), postgres or spark (docs/scale-out.md)
    engines.dbt_executable(target)  # refuses, saying what to install, when the engine's dbt is missing
    os.environ.update({**s.dbt_env(), **engines.engine_env(target)})
    prepared = engines.prepare(s, target)  # postgres: the landing Parquet loaded first
    if prepared:
        context.log.info(prepared)
    invocation = dbt.cli(["build", "--target", target], context=context, raise_on_error=False)
    # Held back until dbt exits: the row counts need the DuckDB file, which the dbt process locks while it runs.
    # dbt's own log lines still stream to the step's logs.
    events = []
    for count, event in enumerate(invocation.stream(), start=1):
        events.append(event)
        faults.reached(f"dbt:after_events:{count}")
    yield from with_row_counts(events, invocation.manifest) if target == "duckdb" else events
    prune_run_targets(dbt_project.project_dir / "target")
    if not invocation.is_successful():
        error = str(invocation.get_error() or "dbt build failed")
        log = invocation.target_path / "dbt.log"
        detail = log.read_text(errors="replace")[-20000:] if log.exists() else ""
        if is_transient(error + detail):
            policy = retry_policy()
            raise dg.RetryRequested(
                max_retries=policy.max_retries,
                seconds_to_wait=(policy.delay or 0) * 2**context.retry_number,
            ) from None
        # a failing dbt test or model: retrying gives the same answer; the models after it were skipped
        raise permanent(f"{error}\nFix the model or the data, then re-run; BI tools keep the previous snapshot.")


def with_row_counts(events: list[Any], manifest: Mapping[str, Any]) -> list[Any]:
    """The dbt events, each output stored as a table carrying `dagster/row_count`, each reporting mart a preview and
    the explanation of its newest month (where its figures come from, what was left out)."""
    outputs = {_unique_id(event): event for event in events if isinstance(event, dg.Output)}
    s = settings()
    counts = table_row_counts(s.duckdb_path, counted_relations(manifest, outputs))
    names = {uid: manifest["nodes"][uid]["alias"] for uid in outputs if uid in manifest["nodes"]}
    previews = mart_previews(s.duckdb_path, names.values())
    explanations = explanation_previews(s.duckdb_path, s.quarantine_dir, names.values())
    out = []
    for event in events:
        uid = _unique_id(event) if isinstance(event, dg.Output) else ""
        extra: dict[str, Any] = {}
        if uid in counts:
            extra["dagster/row_count"] = counts[uid]
        if uid in names and names[uid] in previews:
            extra["preview"] = dg.MetadataValue.md(previews[names[uid]])
        if uid in names and names[uid] in explanations:
            extra["explanation"] = dg.MetadataValue.md(explanations[names[uid]])
        out.append(event.with_metadata({**event.metadata, **extra}) if extra else event)
    return out


def _unique_id(output: dg.Output) -> str:
    return str(output.metadata["unique_id"].value)


def prune_run_targets(target_dir: Path, keep: int = 5) -> None:
    """dagster-dbt writes each invocation's artifacts to target/<asset>-<run>/; keep the newest few."""
    runs = sorted((p for p in target_dir.glob("kampung_kb_dbt-*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in runs[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def dbt_resource() -> DbtCliResource:
    """dbt of this virtualenv, or of .venv-spark/ when KKB_DBT_TARGET=spark (read when the code location loads; if
    .venv-spark/ is missing the dbt step says so when it runs, the code location still loads)."""
    spark = os.environ.get("KKB_DBT_TARGET", "").strip() == "spark" and engines.SPARK_DBT.exists()
    executable = str(engines.SPARK_DBT) if spark else DBT_EXECUTABLE
    return DbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=executable)
