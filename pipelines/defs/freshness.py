"""Freshness, two kinds.

1. Each source's cadence per kabupaten/kota (pipelines/lib/cadence.py): monthly reports due by the 3rd, SKDN by the
   10th, the PK round by the end of its year; a WARN check on the landing asset lists every overdue kabupaten.
2. Each landing asset (the dbt sources) must have been refreshed by a run in the last 26 hours.

A nightly run that stopped happening shows as a WARN check on every landing asset in the UI (evaluated by the
sensor below under `dagster dev` / the daemon, and at the end of each `nightly` run). Whether providers still send
data is a different question: `dbt source freshness` answers it from `_ingested_at` (dbt_project sources config).
"""

import datetime as dt

import dagster as dg

from pipelines.config import settings
from pipelines.defs.ingest import INGEST_ASSETS
from pipelines.lib import cadence

LANDING_FRESHNESS_CHECKS = dg.build_last_update_freshness_checks(
    assets=INGEST_ASSETS,
    lower_bound_delta=dt.timedelta(hours=26),
    severity=dg.AssetCheckSeverity.WARN,
)

freshness_sensor = dg.build_sensor_for_freshness_checks(
    freshness_checks=LANDING_FRESHNESS_CHECKS,
    default_status=dg.DefaultSensorStatus.RUNNING,
)


JAKARTA = dt.timezone(dt.timedelta(hours=7))


def build_cadence_check(c: cadence.Cadence) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["landing", c.entity]),
        name="cadence_per_kabupaten",
        description=f"{c.description}; WARN listing each overdue kabupaten/kota.",
        blocking=False,
    )
    def _check() -> dg.AssetCheckResult:
        today = dt.datetime.now(dt.UTC).astimezone(JAKARTA).date()
        late, watched = cadence.overdue(settings().landing_dir, c, today)
        table = "| kabupaten/kota | newest period received | due |\n|---|---|---|\n" + "\n".join(
            f"| {o.kode_kab} | {o.last_period} | {o.due_period} |" for o in late
        )
        return dg.AssetCheckResult(
            passed=not late,
            severity=dg.AssetCheckSeverity.WARN,
            description=(f"{len(late)} of {watched} kabupaten/kota overdue" if late else f"{watched} on time"),
            metadata={
                "due_period": cadence.due_period(c, today),
                "kabupaten_watched": watched,
                "kabupaten_overdue": len(late),
                "overdue": dg.MetadataValue.md(table if late else "none"),
            },
        )

    return _check


CADENCE_CHECKS = [build_cadence_check(c) for c in cadence.CADENCES.values()]
