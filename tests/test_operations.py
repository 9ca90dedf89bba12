"""Operating without babysitting: retries on a locked warehouse, the alert on a failed run, the instance settings."""

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from pipelines.config import REPO_ROOT
from pipelines.definitions import defs
from pipelines.defs.operations import WAREHOUSE_POOL, alert_on_run_failure
from pipelines.lib import alerts, storage


def test_a_locked_warehouse_is_retried_with_backoff_until_the_lock_is_gone(tmp_path, monkeypatch):
    """Another process (an engineer's DBeaver, a stray script) holds the DuckDB write lock for a while."""
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    monkeypatch.setenv("KKB_WAREHOUSE_DIR", str(warehouse))
    monkeypatch.setenv("KKB_RETRIES", "4")
    monkeypatch.setenv("KKB_RETRY_DELAY_S", "2")
    monkeypatch.setenv("DBT_INDIRECT_SELECTION", "cautious")  # only dim_periode's own tests: the rest is not built
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
         "time.sleep(12)", str(warehouse / "kampung_kb.duckdb")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    key = dg.AssetKey(["dim_periode"])
    result = dg.materialize([defs.resolve_assets_def(key)], selection=[key], raise_on_error=False)
    holder.wait(timeout=60)
    kinds = [e.event_type_value for e in result.all_events]
    assert "STEP_UP_FOR_RETRY" in kinds, kinds
    assert result.success
    retries = [e.message for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert "retry in 2.0 seconds" in retries[0]  # then 4, 8 ... (exponential)


def test_a_failing_dbt_model_is_not_retried(tmp_path, monkeypatch):
    """A failing model or test gives the same answer on a retry: the step fails at once, with what to do."""
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    monkeypatch.setenv("KKB_WAREHOUSE_DIR", str(warehouse))
    monkeypatch.setenv("KKB_RETRY_DELAY_S", "0")
    key = dg.AssetKey(["stg_landing__skdn"])  # its landing source does not exist in an empty warehouse
    result = dg.materialize([defs.resolve_assets_def(key)], selection=[key], raise_on_error=False)
    kinds = [e.event_type_value for e in result.all_events]
    assert not result.success
    assert "STEP_UP_FOR_RETRY" not in kinds
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "Fix the model or the data" in str(failure.step_failure_data.error.message)


def test_a_failed_run_writes_an_alert_with_step_reason_and_run_id(tmp_path, monkeypatch):
    monkeypatch.setenv("KKB_ALERT_LOG", str(tmp_path / "alerts.jsonl"))

    @dg.asset
    def broken():
        raise RuntimeError("raw share unreachable: //kantor/raw")

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([broken], instance=instance, raise_on_error=False)
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    context = dg.build_run_status_sensor_context(
        sensor_name="alert_on_run_failure", dagster_instance=instance, dagster_run=run, dagster_event=failure
    ).for_run_failure()
    alert_on_run_failure(context)
    [alert] = alerts.read(tmp_path / "alerts.jsonl")
    assert alert["run_id"] == result.run_id
    assert alert["failed_steps"][0]["step"] == "broken"
    assert "raw share unreachable" in alert["failed_steps"][0]["reason"]
    assert alert["severity"] == "error" and alert["at"]


def test_every_step_that_writes_the_warehouse_is_in_the_pool_of_one():
    graph = defs.resolve_asset_graph()
    writers = [
        k for k in graph.get_all_asset_keys() if k.path[0] in ("landing", "reference") or k.path == ["bi", "snapshot"]
    ]
    writers += [dg.AssetKey(["rpt_desa_bulanan"])]
    for key in writers:
        node = graph.get(key)
        if node.is_external or key == dg.AssetKey(["landing", "manifest"]):
            continue
        assert defs.resolve_assets_def(key).op.pool == WAREHOUSE_POOL, key
    config = yaml.safe_load((REPO_ROOT / "dagster_home" / "dagster.yaml").read_text())
    assert config["concurrency"]["pools"]["default_limit"] == 1
    assert config["telemetry"]["enabled"] is False
    profiles = yaml.safe_load((REPO_ROOT / "dbt_project" / "profiles.yml").read_text())
    assert profiles["kampung_kb"]["outputs"]["duckdb"]["threads"] == 1  # dbt threads match the pool


@pytest.mark.parametrize("message", ['IO Error: Could not set lock on file "x.duckdb": Conflicting lock is held'])
def test_lock_conflicts_are_transient(message):
    assert storage.is_transient(message)
    assert not storage.is_transient("Failure in test unique_dim_wilayah_kode_desa")


def test_the_instance_in_the_repo_loads(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO_ROOT / "dagster_home" / "dagster.yaml").read_text())
    code = (
        "import dagster as dg; print(dg.DagsterInstance.get().get_concurrency_config().pool_config.default_pool_limit)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env={"DAGSTER_HOME": str(home), "PATH": str(Path(sys.executable).parent)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "1"
