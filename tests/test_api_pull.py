"""Pulling a portal-style API into raw/ (pipelines/lib/api_pull.py) from the local simulator
(pipelines/synth/portal_api.py) on 127.0.0.1: every fault survived, an interrupted pull resumed without gaps or
duplicates, the same rows landed as after a clean pull; the source file read strictly; the ingestion asset pulling
first and failing, after loading what came, when the token is refused."""

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from pipelines.lib import api_pull
from pipelines.synth.portal_api import Faults, PortalApi

TOKEN_ENV = "KKB_TEST_PORTAL_TOKEN"


def records(n: int, start: dt.datetime = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)) -> list[dict]:
    return [
        {"id": i, "intervensi_id": i, "kampung_kb_id": 1000 + i % 37, "tanggal": "2024-03-05",
         "judul": f"Kegiatan {i}", "jenis_post": "kegiatan", "fungsi_keluarga": "reproduksi",
         "sasaran": ["PUS"], "instansi": ["BKKBN"],
         "updated_at": (start + dt.timedelta(minutes=i // 3)).isoformat()}
        for i in range(1, n + 1)
    ]  # fmt: skip


def endpoint(api: PortalApi, **kw) -> api_pull.Endpoint:
    settings = {"per_page": 100, "timeout_s": 2.0, "retries": 4, "backoff_s": 0.01, **kw}
    return api_pull.Endpoint("portal_intervensi", api.url, "kampung_kb/intervensi", TOKEN_ENV, **settings)


def pulled(raw: Path) -> list[dict]:
    """Every record in the files written, in file order (a record twice = twice)."""
    return [json.loads(line) for f in sorted(raw.rglob("*.jsonl")) for line in f.read_text().splitlines()]


@pytest.fixture
def folders(tmp_path, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "rahasia-1")
    return tmp_path / "raw", tmp_path / "warehouse"


def test_a_clean_pull_writes_one_file_per_page_and_moves_the_watermark(folders):
    raw, wh = folders
    data = records(950)
    with PortalApi(data, "rahasia-1") as api:
        report = api_pull.pull(endpoint(api), raw, wh)
    assert (report.pages, report.records, len(report.files_written)) == (10, 950, 10)
    assert sorted(r["id"] for r in pulled(raw)) == list(range(1, 951))
    cursor = json.loads(api_pull.cursor_path(wh, "portal_intervensi").read_text())
    assert cursor == {"since": max(r["updated_at"] for r in data), "pull": None}
    assert all("/kampung_kb/intervensi/api/portal_intervensi/" in str(f) for f in report.files_written)


@pytest.mark.parametrize(
    "faults",
    [
        Faults(slow={3: (3.0, 1)}),  # longer than the 2 s timeout, once
        Faults(errors={2: (500, 2), 7: (503, 1)}),
        Faults(errors={4: (429, 2)}),  # rate limited, Retry-After: 0
        Faults(stale={5: 2}),  # page 5 answered twice with page 4's content
    ],
    ids=["slow_page", "server_errors", "rate_limited", "stale_page"],
)
def test_a_pull_survives_each_fault_with_the_same_files_as_a_clean_pull(folders, tmp_path, faults):
    raw, wh = folders
    data = records(950)
    with PortalApi(data, "rahasia-1") as api:
        api_pull.pull(endpoint(api), tmp_path / "clean_raw", tmp_path / "clean_wh")
    with PortalApi(data, "rahasia-1", faults) as api:
        report = api_pull.pull(endpoint(api), raw, wh)
        assert sum(api.asked.values()) > 10  # the faults happened and were asked again
    clean = sorted(p.relative_to(tmp_path / "clean_raw") for p in (tmp_path / "clean_raw").rglob("*.jsonl"))
    assert sorted(p.relative_to(raw) for p in raw.rglob("*.jsonl")) == clean  # same names = same contents
    assert report.records == 950 and sorted(r["id"] for r in pulled(raw)) == list(range(1, 951))


def test_an_expired_token_stops_the_pull_and_the_next_run_resumes_without_gaps_or_duplicates(folders, monkeypatch):
    raw, wh = folders
    data = records(950)
    with PortalApi(data, "rahasia-1", Faults(token_expires_after=4)) as api:
        with pytest.raises(api_pull.TokenRejected, match="renew it and run again: the pull resumes from page 5"):
            api_pull.pull(endpoint(api), raw, wh)
        assert len(list(raw.rglob("*.jsonl"))) == 4
        cursor = json.loads(api_pull.cursor_path(wh, "portal_intervensi").read_text())
        assert cursor["pull"]["next_page"] == 5 and cursor["since"] == api_pull.EPOCH
        api.rotate_token("rahasia-2")
        api.faults.token_expires_after = None  # the renewed token lasts
        monkeypatch.setenv(TOKEN_ENV, "rahasia-2")
        report = api_pull.pull(endpoint(api), raw, wh)
    assert report.resumed_from_page == 5 and report.pages == 6
    ids = [r["id"] for r in pulled(raw)]
    assert sorted(ids) == list(range(1, 951))  # every record once: no gap, no duplicate


def test_a_server_down_beyond_the_retries_keeps_the_cursor_and_a_page_pulled_twice_is_the_same_file(folders):
    raw, wh = folders
    data = records(950)
    with (
        PortalApi(data, "rahasia-1", Faults(errors={6: (502, 50)})) as api,
        pytest.raises(api_pull.PullFailed, match="page 6: HTTP 502"),
    ):
        api_pull.pull(endpoint(api), raw, wh)
    # a process killed after writing the files of pages 3-5 but before their cursor moves: rewind the cursor to 3
    cpath = api_pull.cursor_path(wh, "portal_intervensi")
    cursor = json.loads(cpath.read_text())
    cursor["pull"]["next_page"] = 3
    cpath.write_text(json.dumps(cursor))
    with PortalApi(data, "rahasia-1") as api:
        report = api_pull.pull(endpoint(api), raw, wh)
    assert report.resumed_from_page == 3 and report.files_already_there == 3  # pages 3-5 again: the same files
    assert sorted(r["id"] for r in pulled(raw)) == list(range(1, 951))


def test_the_next_pull_asks_only_for_what_changed_since_the_watermark(folders):
    raw, wh = folders
    first = records(300)
    with PortalApi(first, "rahasia-1") as api:
        api_pull.pull(endpoint(api), raw, wh)
    newest = max(r["updated_at"] for r in first)
    later = dt.datetime.fromisoformat(newest) + dt.timedelta(hours=1)
    changed = [{**r, "judul": r["judul"] + " (diperbaiki)", "updated_at": later.isoformat()} for r in first[:5]]
    with PortalApi(first[5:] + changed, "rahasia-1") as api:
        report = api_pull.pull(endpoint(api), raw, wh)
    # the records at the watermark itself come again (the API's updated_since is inclusive), then the 5 changed ones
    at_watermark = sum(r["updated_at"] == newest for r in first)
    assert report.records == at_watermark + 5 and report.since == newest
    assert json.loads(api_pull.cursor_path(wh, "portal_intervensi").read_text())["since"] == later.isoformat()


def test_no_token_is_refused_before_any_request(folders, monkeypatch):
    raw, wh = folders
    monkeypatch.delenv(TOKEN_ENV)
    with PortalApi(records(10), "rahasia-1") as api:
        with pytest.raises(api_pull.TokenRejected, match=f"{TOKEN_ENV} is not set"):
            api_pull.pull(endpoint(api), raw, wh)
        assert not api.asked


def test_the_repo_source_file_has_the_portal_endpoint_off_until_its_url_is_set():
    from pipelines.lib import sources

    assert sources.http_endpoints(env={}) == {}
    found = sources.http_endpoints(env={"KKB_PORTAL_INTERVENSI_URL": "https://portal.example/api/v1/intervensi"})
    assert found == {
        "intervensi": api_pull.Endpoint(
            "portal_intervensi", "https://portal.example/api/v1/intervensi", "kampung_kb/intervensi",
            "KKB_PORTAL_TOKEN", per_page=500,
        )
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources:\n  intervensii: {}\n", "unknown source 'intervensii'"),
        ("sources:\n  intervensi:\n    folder: x\n", "unknown key(s) ['folder']"),
        ("sources:\n  intervensi:\n    http: {source: a, url: 'http://h', tokn_env: T}\n", "unknown ['tokn_env']"),
        ("sources:\n  intervensi:\n    http: {source: a, url: 'ftp://h', token_env: T}\n", "is not an http(s) URL"),
        ("sources:\n  intervensi:\n    http: {source: a, url: 'http://h', token_env: T, per_page: 0}\n", "positive"),
        ("source:\n  intervensi: {}\n", "unknown top-level key(s) ['source']"),
    ],
)
def test_a_wrong_source_file_is_refused_naming_what_is_wrong(tmp_path, text, message):
    from pipelines.config import ConfigError
    from pipelines.lib import sources

    path = tmp_path / "sources.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        sources.http_endpoints(path, env={})


SOURCES_FOR_TESTS = """sources:
  intervensi:
    http: {source: portal_intervensi, url: '${KKB_PORTAL_INTERVENSI_URL}', token_env: KKB_PORTAL_TOKEN,
           per_page: 25, timeout_s: 1, retries: 4}
"""


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A generated month (profiles and activity posts); the posts are served by the simulator instead of a file."""
    from pipelines.synth import synthesize

    root = tmp_path_factory.mktemp("generated")
    synthesize(root, provinsi="19", months=[(2024, 1)], seed=5, scale=0.01)
    posts = [
        json.loads(line) for f in sorted(root.rglob("intervensi/**/*.jsonl")) for line in f.read_text().splitlines()
    ]
    start = dt.datetime(2024, 2, 1, tzinfo=dt.UTC)
    for i, post in enumerate(posts):
        post["updated_at"] = (start + dt.timedelta(seconds=i // 2)).isoformat()
    return root / "kampung_kb" / "profil", posts


def landed_through_the_api(tmp_path, monkeypatch, generated, faults, interrupt=False):
    """Profiles from their folder, then activity posts pulled from the simulator and loaded: landed and quarantined
    rows (without batch and time), and the pull reports."""
    import shutil

    import duckdb

    from pipelines.config import Settings
    from pipelines.lib import sources
    from pipelines.lib.entities import ENTITIES
    from pipelines.lib.ingest import ingest_entity
    from tests.conftest import TEST_KEY, TODAY

    profil, posts = generated
    s = Settings(raw_dir=tmp_path / "raw", warehouse_dir=tmp_path / "warehouse")
    shutil.copytree(profil, s.raw_dir / "kampung_kb" / "profil")
    s.warehouse_dir.mkdir()
    (tmp_path / "sources.yaml").write_text(SOURCES_FOR_TESTS)
    monkeypatch.setenv("KKB_SOURCES_FILE", str(tmp_path / "sources.yaml"))
    monkeypatch.setenv("KKB_PORTAL_TOKEN", "rahasia-1")
    ingest_entity(ENTITIES["profil_kampung_kb"], s, TEST_KEY, today=TODAY)
    reports = []
    with PortalApi(posts, "rahasia-1", faults) as api:
        monkeypatch.setenv("KKB_PORTAL_INTERVENSI_URL", api.url)
        reports.append(sources.pull_for("intervensi", s.raw_dir, s.warehouse_dir))
        if interrupt:
            ingest_entity(ENTITIES["intervensi"], s, TEST_KEY, today=TODAY)  # the night goes on with what it has
            api.rotate_token("rahasia-2")
            api.faults.token_expires_after = None
            monkeypatch.setenv("KKB_PORTAL_TOKEN", "rahasia-2")
            reports.append(sources.pull_for("intervensi", s.raw_dir, s.warehouse_dir))
    ingest_entity(ENTITIES["intervensi"], s, TEST_KEY, today=TODAY)
    rows = {}
    for zone in ("landing", "quarantine"):
        files = list((s.warehouse_dir / zone / "intervensi").rglob("part-*.parquet"))
        rel = duckdb.read_parquet([str(f) for f in files], union_by_name=True) if files else None
        rows[zone] = [] if rel is None else sorted(map(repr, rel.select("* exclude (_batch, _ingested_at)").fetchall()))
    return rows, reports


def test_a_pulled_source_lands_the_same_rows_despite_faults_or_an_interruption(tmp_path, monkeypatch, generated):
    clean, reports = landed_through_the_api(tmp_path / "clean", monkeypatch, generated, Faults())
    assert [(r[0].pages, r[1]) for r in reports] == [(8, None)] and len(clean["landing"]) > 150
    faults = Faults(slow={2: (2.0, 1)}, errors={3: (500, 2), 5: (429, 1)}, stale={6: 1})
    faulty, _ = landed_through_the_api(tmp_path / "faulty", monkeypatch, generated, faults)
    assert faulty == clean
    expiring = Faults(token_expires_after=3)
    interrupted, reports = landed_through_the_api(tmp_path / "cut", monkeypatch, generated, expiring, interrupt=True)
    assert reports[0][0] is None and "resumes from page 4" in reports[0][1]
    assert reports[1][0].resumed_from_page == 4
    assert interrupted == clean


def test_the_ingestion_asset_pulls_first_and_a_refused_token_fails_the_step_after_loading_what_came(
    tmp_path, monkeypatch, generated
):
    import shutil

    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.lib import api_pull
    from pipelines.lib.landing import parquet_rows

    profil, posts = generated
    raw, wh = tmp_path / "raw", tmp_path / "warehouse"
    shutil.copytree(profil, raw / "kampung_kb" / "profil")
    (tmp_path / "sources.yaml").write_text(SOURCES_FOR_TESTS)
    env = {"KKB_RAW_DIR": raw, "KKB_WAREHOUSE_DIR": wh, "KKB_SOURCES_FILE": tmp_path / "sources.yaml",
           "KKB_PORTAL_TOKEN": "rahasia-1", "KKB_PII_KEY": "test-key-0123456789abcdef"}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    keys = [dg.AssetKey(["landing", "profil_kampung_kb"]), dg.AssetKey(["landing", "intervensi"])]
    job = defs.resolve_implicit_global_asset_job_def()
    with PortalApi(posts, "rahasia-1", Faults(token_expires_after=3)) as api:
        monkeypatch.setenv("KKB_PORTAL_INTERVENSI_URL", api.url)
        first = job.execute_in_process(asset_selection=keys, raise_on_error=False)
        assert not first.success
        failure = next(e for e in first.all_events if e.event_type_value == "STEP_FAILURE")
        assert "renew it and run again: the pull resumes from page 4" in str(failure.event_specific_data.error)
        partial = parquet_rows(wh / "landing" / "intervensi")
        assert 0 < partial < len(posts)  # pages 1-3 were loaded before the step failed
        api.rotate_token("rahasia-2")
        api.faults.token_expires_after = None
        monkeypatch.setenv("KKB_PORTAL_TOKEN", "rahasia-2")
        second = job.execute_in_process(asset_selection=keys, raise_on_error=False)
    assert second.success
    # the asset's own materialization (the per-month ones before it carry only their batch and rows)
    materialized = [e for e in second.get_asset_materialization_events() if e.asset_key == keys[1]]
    meta = materialized[-1].materialization.metadata
    assert meta["api_resumed_from_page"].value == 4 and meta["api_pages"].value == 5
    cursor = json.loads(api_pull.cursor_path(wh, "portal_intervensi").read_text())
    assert cursor == {"since": max(p["updated_at"] for p in posts), "pull": None}
