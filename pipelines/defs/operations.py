"""How runs behave when things go wrong: the warehouse pool, retries with backoff, and the alert on failure.

- Every step that writes the warehouse folder is in the concurrency pool `kampung_kb_warehouse`; the instance
  (dagster_home/dagster.yaml) limits every pool to 1, so DuckDB never sees two writers, whatever runs are queued.
- Steps retry on transient failures (a locked DuckDB file, a file share or a server blinking) with exponential
  backoff and jitter: KKB_RETRIES (default 3) times, from KKB_RETRY_DELAY_S (default 30 s). Errors that a retry
  cannot fix (bad configuration, a refused publication) fail at once (`dg.Failure(allow_retries=False)`).
- A run that fails appends an alert to KKB_ALERT_LOG (default warehouse/alerts.jsonl): failing step, reason, run id.
"""

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from pipelines.config import settings
from pipelines.lib import alerts
from pipelines.lib.storage import preflight, storage_problem

WAREHOUSE_POOL = "kampung_kb_warehouse"
# Who answers for an asset in the UI: the data engineers of the office running it (rename for your office).
OWNERS = ["team:kampung-kb-data"]
PID_TAG, HOST_TAG = "kkb/pid", "kkb/host"


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


@contextlib.contextmanager
def storage_guard(warehouse_dir: Path) -> Iterator[None]:
    """Check the warehouse folder before writing; a full disk or a read-only folder fails at once, in plain words."""
    try:
        preflight(warehouse_dir)
        yield
    except OSError as exc:
        problem = storage_problem(exc, warehouse_dir)
        if problem is None:
            raise  # anything else may be passing (a share blinking): the retry policy tries again
        raise permanent(problem) from exc


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
        job=run.tags.get("kkb/job") or run.job_name,  # the nightly runs the implicit asset job
        reason=(context.failure_event.message or "run failed")[:2000],
        failed_steps=steps,
        ui=f"http://127.0.0.1:3000/runs/{run.run_id}",
    )
    path = alerts.alert_log_path(settings().warehouse_dir)
    alerts.append(path, alert)
    context.log.info(f"alert for run {run.run_id} written to {path}")


def process_tags() -> dict[str, str]:
    """Tags that let a later `kkb run` recognise this run if its process dies without a word."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _alive(pid: int) -> bool:
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        text = cmdline.read_bytes()
    except OSError:
        return False
    return b"kkb" in text or b"dagster" in text


def recover_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Runs of `kkb run` on this host whose process died (killed, power cut) while they held the warehouse pool.

    Without this, the pool slot they claimed stays taken and every later run waits for it forever. Each such run is
    marked failed (the alert sensor reports it) and its slots are freed. Runs launched by `dagster dev` / the daemon
    are left to Dagster's own run monitoring (dagster_home/dagster.yaml).
    """
    recovered = []
    active = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.CANCELING]
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=active)):
        pid, host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
        if pid is None or host != socket.gethostname() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        instance.report_run_failed(
            run, message=f"the process running it (pid {pid}) died; its warehouse slot was freed"
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        recovered.append(run.run_id)
    return recovered
