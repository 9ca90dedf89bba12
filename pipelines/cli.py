"""`kkb`: the command line of the Kampung KB pipeline.

kkb synth   generate realistic demo source files (with a ground truth) into the raw folder
kkb run     materialise every asset once (the nightly job), in this process, and print a summary
kkb rebuild rebuild months (or PK years) of one source from the raw files with the current rules, then the rest
kkb dbt     run dbt on one of the engines (duckdb, postgres, spark), preparing it first
kkb docs    build the dbt docs site and the Data Docs index into warehouse/docs/ (offline)
kkb summary print rows per table, rows quarantined and files rejected, from what is on disk
kkb bench   measure the generator and a full run on temporary folders; figures to bench/results.json
kkb bi      the published BI snapshots: list them, roll back to an earlier one
kkb explain where a published number comes from: the reports, files and rows behind it, and what was left out
"""

from __future__ import annotations

import logging
import re
import sys
import time
from pathlib import Path

import click

from pipelines.config import settings


def parse_months(spec: str) -> list[tuple[int, int]]:
    """'2024-01..2024-12' or '2024-03' or '2024-01,2024-05' -> [(2024, 1), ...]."""
    out: list[tuple[int, int]] = []
    for part in spec.split(","):
        m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*(?:\.\.\s*(\d{4})-(\d{1,2})\s*)?", part)
        if not m:
            raise click.BadParameter(f"'{part}' is not YYYY-MM or YYYY-MM..YYYY-MM")
        y0, m0 = int(m[1]), int(m[2])
        y1, m1 = (int(m[3]), int(m[4])) if m[3] else (y0, m0)
        if not (1 <= m0 <= 12 and 1 <= m1 <= 12) or (y1, m1) < (y0, m0):
            raise click.BadParameter(f"'{part}' is not a valid month range")
        y, mo = y0, m0
        while (y, mo) <= (y1, m1):
            out.append((y, mo))
            y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
    return out


def has_source_files(raw_dir: Path) -> bool:
    """Anything a user (or an earlier generation) put there, other than our README."""
    if not raw_dir.exists():
        return False
    return any(p.is_file() and p.name != "README.md" and not p.name.startswith(".") for p in raw_dir.rglob("*"))


@click.group()
def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Outside `make`, use the repo's Dagster instance (dagster_home/dagster.yaml: telemetry off, pools of one) so
    # runs started here share the UI's run history and concurrency pool; never phone home.
    import os

    from pipelines.config import REPO_ROOT

    os.environ.setdefault("DAGSTER_HOME", str(REPO_ROOT / "dagster_home"))
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@main.command()
@click.option("--provinsi", default="19", show_default=True, help="Kemendagri province code, e.g. 19 (Kep. Babel).")
@click.option("--bulan", "months", default="2024-01..2024-12", show_default=True, help="Months: YYYY-MM..YYYY-MM.")
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--defect-rate", default=0.02, show_default=True, type=float, help="Share of rows/files with defects.")
@click.option("--skala", "scale", default=1.0, show_default=True, type=float, help="Population scale factor.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Target folder (default: KKB_RAW_DIR).")
@click.option("--if-empty", is_flag=True, help="Do nothing (successfully) when the folder already holds files.")
def synth(provinsi, months, seed, defect_rate, scale, out_dir, if_empty) -> None:
    """Generate the demo source files. Never writes over files a user put there."""
    from pipelines.synth import synthesize

    out = (out_dir or settings().raw_dir).resolve()
    if has_source_files(out):
        if if_empty:
            click.echo(f"{out} already holds source files: demo data not generated (nothing overwritten).")
            return
        raise click.ClickException(f"{out} is not empty; demo data is only generated into an empty folder.")
    started = time.perf_counter()
    summary = synthesize(
        out,
        provinsi=provinsi,
        months=parse_months(months),
        seed=seed,
        defect_rate=defect_rate,
        scale=scale,
        progress=sys.stderr.isatty(),
    )
    click.echo(f"demo data written to {out} in {time.perf_counter() - started:.1f} s")
    for key in ("family_rows_per_second",):
        if key in summary:
            click.echo(f"  {key}: {summary[key]:,.0f}")


@main.command()
@click.option(
    "--demo-key-if-generated",
    is_flag=True,
    help="Without KKB_PII_KEY, use the public demo key, but only if the raw folder is the generator's demo data.",
)
@click.option(
    "--timings",
    "timings_file",
    type=click.Path(path_type=Path),
    help="Write each step's start and end (epoch seconds) and each entity's rows and seconds to this JSON file.",
)
def run(demo_key_if_generated: bool, timings_file: Path | None) -> None:
    """Materialise every asset once (the nightly job) and print a summary."""
    import os

    import dagster as dg

    from pipelines.definitions import defs

    if demo_key_if_generated and not os.environ.get("KKB_PII_KEY"):
        if (settings().raw_dir / "ground_truth.json").exists():
            os.environ["KKB_DEMO"] = "1"
        else:
            raise click.ClickException(
                "KKB_PII_KEY is not set and raw/ is not the generated demo data: set KKB_PII_KEY to a secret."
            )

    from pipelines.defs.operations import process_tags, recover_dead_runs
    from pipelines.defs.schedules import NIGHTLY_TAGS, nightly_job_def

    started = time.perf_counter()
    instance = dg.DagsterInstance.get()
    for run_id in recover_dead_runs(instance):
        click.echo(f"run {run_id} had died mid-way (its process is gone): marked failed, warehouse slot freed")
    result = nightly_job_def(defs).execute_in_process(
        instance=instance, raise_on_error=False, tags={**NIGHTLY_TAGS, **process_tags()}
    )
    elapsed = time.perf_counter() - started
    from pipelines.lib.summary import render_summary

    click.echo(render_summary(settings(), elapsed))
    click.echo(ingestion_speed(result))
    if timings_file is not None:
        import json

        timings_file.write_text(json.dumps(run_timings(instance, result), indent=1))
    if not result.success:
        raise click.ClickException("the run failed:\n" + step_failures(result))


@main.command()
@click.argument("entity")
@click.argument("dari")
@click.argument("sampai", required=False)
@click.option("--landing-only", is_flag=True, help="Only the landing; the models and the BI snapshot follow next run.")
def rebuild(entity: str, dari: str, sampai: str | None, landing_only: bool) -> None:
    """Rebuild ENTITY's periods DARI..SAMPAI (e.g. 2024-03, or 2024 for a PK round) from the raw files with the
    current rules, then the models and the BI snapshot downstream of it. Same as materialising those partitions of
    landing/ENTITY in the UI."""
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.defs.operations import process_tags, recover_dead_runs
    from pipelines.defs.schedules import nightly_job_def
    from pipelines.lib.entities import ENTITIES
    from pipelines.lib.periods import check_key

    target = ENTITIES.get(entity)
    if target is None or target.period is None:
        with_period = ", ".join(n for n, e in ENTITIES.items() if e.period)
        raise click.BadParameter(f"{entity!r} is not a source with periods; one of: {with_period}", param_hint="ENTITY")
    try:
        first, last = check_key(dari, target.period), check_key(sampai or dari, target.period)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    key = dg.AssetKey(["landing", entity])
    graph = defs.resolve_asset_graph()
    step_keys = set(defs.resolve_assets_def(key).keys)  # an entity loads in one step with those it looks up in
    selection = step_keys if landing_only else dg.AssetSelection.assets(*step_keys).downstream().resolve(graph)
    selection = {k for k in selection if graph.get(k).is_executable}
    instance = dg.DagsterInstance.get()
    for run_id in recover_dead_runs(instance):
        click.echo(f"run {run_id} had died mid-way (its process is gone): marked failed, warehouse slot freed")
    tags = {
        "dagster/asset_partition_range_start": first,
        "dagster/asset_partition_range_end": last,
        "kkb/job": "rebuild",
        **process_tags(),
    }
    started = time.perf_counter()
    result = nightly_job_def(defs).execute_in_process(
        instance=instance, asset_selection=list(selection), tags=tags, raise_on_error=False
    )
    for event in result.get_asset_materialization_events():
        meta = event.materialization.metadata if event.materialization else {}
        if "rebuild_rows_landed" in meta and event.partition == first:
            name = event.asset_key.path[-1] if event.asset_key else entity
            click.echo(
                f"{name} {first}..{last}: {meta['rebuild_files_read'].value} file(s) read, "
                f"{meta['rebuild_rows_landed'].value} rows landed, {meta['rebuild_rows_quarantined'].value} quarantined"
            )
            click.echo(str(meta["rebuild_before_after"].value))
    click.echo(f"done in {time.perf_counter() - started:.1f} s ({len(selection)} assets)")
    if not result.success:
        raise click.ClickException("the rebuild failed:\n" + step_failures(result))


@main.command()
@click.option(
    "--scale",
    "scale_name",
    type=click.Choice(["province", "tenth", "national"]),
    default="province",
    show_default=True,
    help="province: Bangka Belitung; tenth: every province at a tenth of national size; national: everything.",
)
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), help="Folder for <scale>.json/.md (default <warehouse>/bench)."
)
@click.option("--keep", is_flag=True, help="Keep the bench's warehouse (work-<scale>/) for a look afterwards.")
@click.option("--fresh", is_flag=True, help="Generate the raw files again even if raw-<scale>/ holds them.")
def bench(scale_name: str, out_dir: Path | None, keep: bool, fresh: bool) -> None:
    """Generate data at a scale and time every stage (generate, floor, ingestion per entity, dbt build, publish, an
    incremental day, a month rebuilt) with rows per second, peak memory and disk; judge the targets."""
    from pipelines.bench import run_bench, scale

    target = out_dir or settings().warehouse_dir / "bench"
    results = run_bench(scale(scale_name), target, keep=keep, fresh=fresh)
    click.echo((target / f"{scale_name}.md").read_text())
    click.echo(f"figures written to {target / scale_name}.json and .md")
    if any(t["met"] is False for t in results["targets"].values()):
        click.echo("some targets are not met (see the table above)")


EXCEPTION_PREFIX = re.compile(r"^(?:[a-z_]\w*\.)+[A-Z]\w*: |^[A-Z]\w*(?:Error|Exception|Failure|Refused): ")


def step_failures(result) -> str:
    """One line per failed step: the step and what went wrong (the innermost error, which names file or rule)."""
    lines = []
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        error = event.step_failure_data.error if event.step_failure_data else None
        while error is not None and error.cause is not None:
            error = error.cause
        message = (error.message if error else event.message or "").strip()
        message = re.sub(EXCEPTION_PREFIX, "", message)  # the exception's class is noise to the reader
        lines.append(f"  {event.step_key or '?'}: {message[:1500]}")
    return "\n".join(lines) or "  (no step failed: see the log above)"


def run_timings(instance, result) -> dict:
    """Step windows from the run's event log, and per landing entity its rows read and seconds (asset metadata)."""
    import dagster as dg

    steps: dict[str, dict[str, float]] = {}
    kinds = {dg.DagsterEventType.STEP_START: "start", dg.DagsterEventType.STEP_SUCCESS: "end"}
    kinds[dg.DagsterEventType.STEP_FAILURE] = "end"
    for entry in instance.all_logs(result.run_id, of_type=set(kinds)):
        if entry.dagster_event and entry.step_key:
            steps.setdefault(entry.step_key, {})[kinds[entry.dagster_event.event_type]] = entry.timestamp
    entities = {}
    for event in result.get_asset_materialization_events():
        meta = event.materialization.metadata if event.materialization else {}
        if event.asset_key.path[0] == "landing" and event.partition is None and "rows_read" in meta:
            entities[event.asset_key.path[-1]] = {
                "step": event.step_key,
                "rows_read": meta["rows_read"].value,
                "rows_landed": meta["rows_landed"].value if "rows_landed" in meta else None,
                "seconds": meta["seconds"].value,
            }
    return {"success": result.success, "steps": steps, "entities": entities}


def ingestion_speed(result) -> str:
    """Rows per second through read + validate + land, per entity of this run (from the assets' metadata)."""
    lines = ["ingestion speed (this run)   rows read   seconds      rows/s"]
    for event in result.get_asset_materialization_events():
        key = event.asset_key.path
        if key[0] != "landing" or event.materialization is None or event.partition is not None:
            continue  # the per-month marks of a nightly batch carry no figures
        meta = event.materialization.metadata
        rows, secs = meta["rows_read"].value, meta["seconds"].value
        rate = f"{rows / secs:,.0f}" if secs and rows else "-"
        lines.append(f"  {key[-1]:<26} {rows:>10,} {secs:>9.1f} {rate:>11}")
    return "\n".join(lines)


@main.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option(
    "--target",
    type=click.Choice(["duckdb", "postgres", "spark"]),
    help="Engine (default: KKB_DBT_TARGET, else duckdb). postgres: the landing is loaded into PostgreSQL first.",
)
@click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED)
def dbt(target: str | None, dbt_args: tuple[str, ...]) -> None:
    """dbt on the warehouse's models, e.g. `kkb dbt --target postgres build` (README: Scaling out)."""
    from pipelines.config import ConfigError
    from pipelines.lib import engines

    try:
        code = engines.run_dbt(settings(), target or engines.target_from_env(), list(dbt_args) or ["build"])
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    sys.exit(code)


@main.command()
def docs() -> None:
    """Build the dbt docs site and the Data Docs index into warehouse/docs/ (no internet needed to build or view)."""
    from pipelines.config import DBT_PROJECT_DIR
    from pipelines.lib import docs_site

    s = settings()
    dbt = str(Path(sys.executable).with_name("dbt"))
    try:
        page = docs_site.build_dbt_docs(s, dbt, DBT_PROJECT_DIR)
    except docs_site.DocsError as exc:
        raise click.ClickException(str(exc)) from exc
    fixed = docs_site.make_offline(s)
    index = docs_site.write_index(s)
    click.echo(f"dbt docs:  {page}")
    if fixed:
        click.echo(f"Data Docs: {fixed} older page(s) made offline")
    click.echo(f"open:      {index}")


@main.command()
def summary() -> None:
    """Rows per table, rows quarantined, files rejected: what is on disk now."""
    from pipelines.lib.summary import render_summary

    click.echo(render_summary(settings(), None))


@main.group()
def bi() -> None:
    """The published BI snapshots (warehouse/bi/)."""


@bi.command("list")
def bi_list() -> None:
    """The kept publications, oldest first; the current one is marked."""
    from pipelines.lib import publish

    bi_dir = settings().bi_dir
    current = publish.current_publication(bi_dir)
    kept = publish.publications(bi_dir)
    if not kept:
        click.echo(f"no publication in {bi_dir} yet: run the pipeline (make run)")
    for pub in kept:
        click.echo(f"{'*' if pub == current else ' '} {pub}")


@bi.command()
@click.option("--to", "to", help="Publication id (from `kkb bi list`); default: the one before the current.")
def rollback(to: str | None) -> None:
    """Put an earlier publication back in place for BI tools (the DuckDB file and the Parquet folder)."""
    from pipelines.lib import publish

    try:
        done = publish.rollback(settings().bi_dir, to)
    except publish.PublishError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"BI tools now read publication {done}; the next successful run publishes a new one.")


@main.command()
@click.argument("mart")
@click.option(
    "--kode", required=True, help="The unit: 19.06 (kabupaten), 19.06.01 (kecamatan), a kode_desa, a kampung_kb_id."
)
@click.option("--periode", required=True, help="The month, YYYY-MM.")
@click.option("--indikator", help="The indicator column, e.g. cpr; leave out to list the indicators of the mart.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
def explain(mart: str, kode: str, periode: str, indikator: str | None, fmt: str) -> None:
    """Explain a published number of MART (e.g. rpt_kabupaten_bulanan): the reports, files and rows behind it, the
    units expected but left out and why, and the superseded submissions. Reads the warehouse only."""
    from pipelines.lib import explain as ex
    from pipelines.lib import explain_render as render

    s = settings()
    if not indikator:
        if mart not in ex.LEVELS:
            raise click.UsageError(f"unknown reporting mart {mart!r}; one of: {', '.join(ex.LEVELS)}")
        click.echo(f"Indicators of {mart}: {', '.join(ex.indicators_of(mart))}")
        return
    try:
        e = ex.explain(s.duckdb_path, s.quarantine_dir, mart, kode, periode, indikator)
    except ex.ExplainError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        {"json": render.render_json, "markdown": render.render_markdown}.get(fmt, render.render_text)(e), nl=False
    )
    if not (e.sums_match and e.value_matches):
        sys.exit(3)
