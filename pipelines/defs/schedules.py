"""When things run: the nightly run at 01:00 Jakarta time, and a run soon after new files land in the raw folder.

Both run every asset, unpartitioned: ingestion loads whatever arrived (any month, any PK year) and the warehouse is
rebuilt. They target Dagster's implicit asset job (`__ASSET_JOB`, what "Materialize all" in the UI launches):
a named job must have assets of one partitions definition, and ours have two (months and PK years). Runs carry the
tag kkb/job=nightly so they can be found in the run list.
"""

import os

import dagster as dg

from pipelines.config import settings
from pipelines.lib import arrivals

NIGHTLY_JOB = "__ASSET_JOB"  # dagster's IMPLICIT_ASSET_JOB_NAME
NIGHTLY_TAGS = {"kkb/job": "nightly"}

nightly_schedule = dg.ScheduleDefinition(
    name="nightly_0100_wib",
    job_name=NIGHTLY_JOB,
    cron_schedule="0 1 * * *",
    execution_timezone="Asia/Jakarta",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    tags={**NIGHTLY_TAGS, "kkb/trigger": "schedule"},
    description="Every night at 01:00 WIB: ingest what arrived during the day and rebuild the models.",
)


def raw_files_sensor_status() -> dg.DefaultSensorStatus:
    """KKB_RAW_FILES_SENSOR=off starts the raw-folder sensor switched off (runs on the schedule only, or by hand)."""
    off = os.environ.get("KKB_RAW_FILES_SENSOR", "on").strip().lower() in ("off", "0", "false", "no")
    return dg.DefaultSensorStatus.STOPPED if off else dg.DefaultSensorStatus.RUNNING


@dg.sensor(
    name="raw_files_arrived",
    job_name=NIGHTLY_JOB,
    minimum_interval_seconds=120,
    default_status=raw_files_sensor_status(),
    description="Starts a run when settled new files appear under the raw folder (paths not in the manifest yet).",
)
def raw_files_sensor(context: dg.SensorEvaluationContext):
    found, waiting = arrivals.new_files(settings())
    if not found:
        return dg.SkipReason(
            f"no new settled files ({waiting} still being written)" if waiting else "no new files in the raw folder"
        )
    entities = sorted({a.entity for a in found})
    context.log.info(f"{len(found)} new file(s) for {', '.join(entities)}; {waiting} still being written")
    return dg.RunRequest(
        run_key=arrivals.run_key(found),
        tags={
            **NIGHTLY_TAGS,
            "kkb/trigger": "raw_files",
            "kkb/files": str(len(found)),
            "kkb/entities": ",".join(entities),
        },
    )


def nightly_job_def(defs: dg.Definitions) -> dg.JobDefinition:
    """The job the nightly schedule runs, for running it in process (`kkb run`, tests)."""
    return defs.resolve_implicit_global_asset_job_def()
