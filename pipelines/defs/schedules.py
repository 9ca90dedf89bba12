"""When things run: the nightly run at 01:00 Jakarta time, and a run soon after new files land in the raw folder."""

import dagster as dg

from pipelines.config import settings
from pipelines.lib import arrivals

nightly_job = dg.define_asset_job(
    "nightly", selection=dg.AssetSelection.all(), description="Ingest new files, rebuild the warehouse."
)

nightly_schedule = dg.ScheduleDefinition(
    name="nightly_0100_wib",
    job=nightly_job,
    cron_schedule="0 1 * * *",
    execution_timezone="Asia/Jakarta",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night at 01:00 WIB: ingest what arrived during the day and rebuild the models.",
)


@dg.sensor(
    name="raw_files_arrived",
    job=nightly_job,
    minimum_interval_seconds=120,
    default_status=dg.DefaultSensorStatus.RUNNING,
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
        tags={"kkb/trigger": "raw_files", "kkb/files": str(len(found)), "kkb/entities": ",".join(entities)},
    )
