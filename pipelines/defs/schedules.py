"""When things run: the nightly run at 01:00 Jakarta time."""

import dagster as dg

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
