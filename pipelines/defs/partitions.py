"""Dagster partitions: a month for the monthly sources, a year for the PK round (and the yearly posyandu list).

A partition of a landing asset is a period of its rows (pipelines/lib/periods.py). Materialising partitions (the
UI's partition picker or a backfill, or `kkb rebuild`) rebuilds those periods from the raw files with the current
rules; the nightly run is unpartitioned (it loads whatever arrived) and marks the periods it brought rows for.
Kampung KB began in January 2016. A month's partition exists once the month is over (its reports are due by the 3rd
of the next); the current year's PK round is a partition while it is being collected.
"""

import dagster as dg

from pipelines.lib.entities import Entity

TIMEZONE = "Asia/Jakarta"

MONTHLY = dg.MonthlyPartitionsDefinition(start_date="2016-01", fmt="%Y-%m", timezone=TIMEZONE)
YEARLY = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *", fmt="%Y", start="2016", timezone=TIMEZONE, end_offset=1
)


def partitions_for(entity: Entity) -> dg.PartitionsDefinition | None:
    if entity.period is None:
        return None
    return MONTHLY if entity.period.unit == "month" else YEARLY
