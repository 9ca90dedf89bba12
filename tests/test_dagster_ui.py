"""The Dagster UI as an engineer meets it every morning: `dagster dev` (webserver and daemon) starts on the repo's
workspace, the asset graph loads in Debian's chromium, a materialisation launched through the GraphQL API goes
through the run queue and completes, and its Great Expectations check is visible on the asset's page.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pipelines.config import REPO_ROOT
from pipelines.synth import synthesize
from tests.browser import ARTIFACTS, chromium_tab

BIN = Path(sys.executable).parent
SKDN = {"path": ["landing", "skdn"]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Ui:
    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}"

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        req = urllib.request.Request(f"{self.url}/graphql", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            out = json.load(resp)
        assert "errors" not in out, out["errors"]
        return out["data"]


def wait(what: str, probe, timeout: float, every: float = 2.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = probe()
            if last:
                return last
        except OSError as exc:  # not listening yet
            last = exc
        time.sleep(every)
    raise AssertionError(f"{what}: still not there after {timeout:.0f} s (last: {last!r})")


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    root = tmp_path_factory.mktemp("ui")
    synthesize(root / "raw", provinsi="19", months=[(2024, 1)], seed=5, scale=0.01)
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        "DAGSTER_HOME": str(home),
        "KKB_RAW_DIR": str(root / "raw"),
        "KKB_WAREHOUSE_DIR": str(root / "warehouse"),
        "KKB_PII_KEY": "ui-test-key-0123456789abcdef",
        "KKB_MAX_BAD_ROW_SHARE": "0.2",  # 1 % of a province: a few bad rows weigh more; warn, do not block
        "KKB_RAW_FILES_SENSOR": "off",  # the raw-folder sensor stays off: the run under test loads the files
    }
    env.pop("KKB_PG_DSN", None)
    log = open(root / "dagster-dev.log", "w")  # noqa: SIM115 - closed in the teardown below
    proc = subprocess.Popen(
        [str(BIN / "dagster"), "dev", "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip  # its own process group: dagster dev ignores SIGTERM from a script (ARCHITECTURE.md)
    try:
        client = Ui(port)
        wait("webserver", lambda: urllib.request.urlopen(f"{client.url}/server_info", timeout=5).status == 200, 180)
        loaded = """{ workspaceOrError { ... on Workspace { locationEntries { name
                      locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
        entries = wait(
            "code location kampung_kb",
            lambda: [
                e
                for e in client.graphql(loaded)["workspaceOrError"]["locationEntries"]
                if e["locationOrLoadError"] and e["locationOrLoadError"]["__typename"] == "RepositoryLocation"
            ],
            180,
        )
        assert entries[0]["name"] == "kampung_kb"
        yield client
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        log.close()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(root / "dagster-dev.log", ARTIFACTS / "dagster-dev.log")


def skip_newsletter(tab) -> None:
    """Dagster's first-visit newsletter dialog covers the page in screenshots."""
    skip = tab.locator("button:has-text('Skip')")
    if skip.count():
        skip.first.click()


def test_the_asset_graph_loads_in_the_browser(ui: Ui):
    with chromium_tab(console=(), failed_requests=False, width=1440) as (tab, problems):
        tab.goto(f"{ui.url}/locations/kampung_kb/asset-groups/ingest_posyandu")
        tab.wait_for_selector("text=skdn", timeout=60_000)
        tab.wait_for_selector("text=eppgbm", timeout=60_000)
        tab.screenshot(path=str(ARTIFACTS / "dagster-asset-graph.png"))
    assert problems == []


LAUNCH = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename
  ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } ... on InvalidSubsetError { message }
  ... on RunConfigValidationInvalid { errors { message } } } }"""
PARTITIONS = """query($k: AssetKeyInput!) { assetNodeOrError(assetKey: $k) { ... on AssetNode {
  partitionStats { numMaterialized numPartitions } } } }"""
RUN = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""
CHECKS = """query($k: AssetKeyInput!) { assetNodeOrError(assetKey: $k) { ... on AssetNode {
  assetChecksOrError { ... on AssetChecks { checks { name
    executionForLatestMaterialization { status evaluation { severity metadataEntries { label
      ... on IntMetadataEntry { intValue } } } } } } } } } }"""


def test_a_materialisation_launched_through_graphql_completes_and_shows_its_check(ui: Ui):
    params = {
        "selector": {
            "repositoryLocationName": "kampung_kb",
            "repositoryName": "__repository__",
            "jobName": "__ASSET_JOB",
            "assetSelection": [SKDN],
            "assetCheckSelection": [{"assetKey": SKDN, "name": "suite_skdn"}],
        },
        "mode": "default",
        "executionMetadata": {"tags": [{"key": "kkb/job", "value": "ui-test"}]},
    }
    launched = ui.graphql(LAUNCH, {"p": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    status = wait(
        "run to finish",
        lambda: (
            (s := ui.graphql(RUN, {"id": run_id})["runOrError"]["status"]) in ("SUCCESS", "FAILURE", "CANCELED") and s
        ),
        300,
    )
    assert status == "SUCCESS"
    node = ui.graphql(CHECKS, {"k": SKDN})["assetNodeOrError"]
    checks = {c["name"]: c for c in node["assetChecksOrError"]["checks"]}
    suite = checks["suite_skdn"]["executionForLatestMaterialization"]
    assert suite["status"] in ("SUCCEEDED", "FAILED")  # FAILED = WARN here: a few rows of the 1 % sample quarantined
    rows = {m["label"]: m.get("intValue") for m in suite["evaluation"]["metadataEntries"]}
    assert rows["rows_checked"] > 0
    # the unpartitioned run marked the month it loaded: the partition bar shows January 2024 as materialised
    stats = ui.graphql(PARTITIONS, {"k": SKDN})["assetNodeOrError"]["partitionStats"]
    assert stats["numMaterialized"] == 1 and stats["numPartitions"] >= 12 * 10  # 2016-01 .. last complete month

    with chromium_tab(console=(), failed_requests=False, width=1440) as (tab, problems):
        tab.goto(f"{ui.url}/assets/landing/skdn?view=checks")
        tab.click("text=suite_skdn", timeout=60_000)
        tab.wait_for_selector("text=bad_row_share", timeout=60_000)  # the check's metadata, as the UI shows it
        tab.screenshot(path=str(ARTIFACTS / "dagster-asset-checks.png"))
        tab.goto(f"{ui.url}/assets/landing/skdn?view=partitions")
        tab.wait_for_selector("text=Materialized (1)", timeout=60_000)
        skip_newsletter(tab)
        tab.screenshot(path=str(ARTIFACTS / "dagster-partitions.png"))
        tab.goto(f"{ui.url}/runs/{run_id}")
        tab.wait_for_selector("text=ingest_skdn", timeout=60_000)
        tab.screenshot(path=str(ARTIFACTS / "dagster-run.png"))
    assert problems == []


BACKFILL = """mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) { __typename
  ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message }
  ... on InvalidSubsetError { message } } }"""
BACKFILL_STATUS = """query($id: String!) { partitionBackfillOrError(backfillId: $id) { __typename
  ... on PartitionBackfill { status runs(limit: 10) { runId status tags { key value } } } } }"""
DONE = ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED")


def test_a_backfill_of_one_month_runs_once_and_the_ui_shows_it_completed(ui: Ui):
    """A month rebuilt as a backfill (what an engineer does from the partition view): one run with the range tags."""
    params = {"partitionNames": ["2024-01"], "assetSelection": [SKDN], "fromFailure": False, "tags": []}
    launched = ui.graphql(BACKFILL, {"p": params})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]
    backfill = wait(
        "backfill to finish",
        lambda: (
            (b := ui.graphql(BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"])["status"] in DONE and b
        ),
        420,
        every=3.0,
    )
    assert backfill["status"] in ("COMPLETED", "COMPLETED_SUCCESS"), backfill
    (run,) = backfill["runs"]  # single-run backfill policy: the month is one run
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert run["status"] == "SUCCESS"
    assert tags["dagster/asset_partition_range_start"] == tags["dagster/asset_partition_range_end"] == "2024-01"

    with chromium_tab(console=(), failed_requests=False, width=1440) as (tab, problems):
        tab.goto(f"{ui.url}/runs/b/{backfill_id}")
        tab.wait_for_selector("text=Succeeded", timeout=60_000)
        tab.wait_for_selector("text=100% completed", timeout=60_000)  # the asset's row: 1 partition targeted, done
        assert "Partition selection" in (page := tab.inner_text("body")) and "2024-01" in page
        skip_newsletter(tab)
        tab.screenshot(path=str(ARTIFACTS / "dagster-backfill.png"))
    assert problems == []
