"""How runs behave when things go wrong: the warehouse pool, retries with backoff, and the alert on failure.

- Every step that writes the warehouse folder is in the concurrency pool `kampung_kb_warehouse`; the instance
  (dagster_home/dagster.yaml) limits every pool to 1, so DuckDB never sees two writers, whatever runs are queued.
- Steps retry on transient failures (a locked DuckDB file, a file share or a server blinking) with exponential
  backoff and jitter: KKB_RETRIES (default 3) times, from KKB_RETRY_DELAY_S (default 30 s). Errors that a retry
  cannot fix (bad configuration, a refused publication) fail at once (`dg.Failure(allow_retries=False)`).
- A run that fails appends an alert to KKB_ALERT_LOG (default warehouse/alerts.jsonl): failing step, reason, run id.
"""

import os

import dagster as dg

from pipelines.config import settings
from pipelines.lib import alerts

WAREHOUSE_POOL = "kampung_kb_warehouse"


def retry_policy() -> dg.RetryPolicy:
    return dg.RetryPolicy(
        max_retries=int(os.environ.get("KKB_RETRIES", "3")),
        delay=float(os.environ.get("KKB_RETRY_DELAY_S", "30")),
        backoff=dg.Backoff.EXPONENTIAL,
        jitter=dg.Jitter.PLUS_MINUS,
    )


def permanent(message: str) -> dg.Failure:
    """A failure a retry cannot fix: the step fails now and the message says what to do."""
    return dg.Failure(description=message, allow_retries=False)


def _root_cause(error) -> str:
    """The innermost error of Dagster's wrapped chain (what actually went wrong), e.g. the IOError of a share."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return error.message.strip()


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Appends an alert (run id, failing steps and reasons) to KKB_ALERT_LOG for every failed run.",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext) -> None:
    steps = []
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        reason = _root_cause(data.error) if data and data.error else (event.message or "")
        steps.append({"step": event.step_key or "?", "reason": reason[:2000]})
    run = context.dagster_run
    alert = alerts.Alert(
        run_id=run.run_id,
        job=run.job_name,
        reason=(context.failure_event.message or "run failed")[:2000],
        failed_steps=steps,
        ui=f"http://127.0.0.1:3000/runs/{run.run_id}",
    )
    path = alerts.alert_log_path(settings().warehouse_dir)
    alerts.append(path, alert)
    context.log.info(f"alert for run {run.run_id} written to {path}")
