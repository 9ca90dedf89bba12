"""Freshness: each landing asset (the dbt sources) must have been refreshed by a run in the last 26 hours.

A nightly run that stopped happening shows as a WARN check on every landing asset in the UI (evaluated by the
sensor below under `dagster dev` / the daemon, and at the end of each `nightly` run). Whether providers still send
data is a different question: `dbt source freshness` answers it from `_ingested_at` (dbt_project sources config).
"""

import datetime as dt

import dagster as dg

from pipelines.defs.ingest import INGEST_ASSETS

LANDING_FRESHNESS_CHECKS = dg.build_last_update_freshness_checks(
    assets=INGEST_ASSETS,
    lower_bound_delta=dt.timedelta(hours=26),
    severity=dg.AssetCheckSeverity.WARN,
)

freshness_sensor = dg.build_sensor_for_freshness_checks(
    freshness_checks=LANDING_FRESHNESS_CHECKS,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
