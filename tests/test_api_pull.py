"""Pulling a portal-style API into raw/ (pipelines/lib/api_pull.py) from the local simulator
(pipelines/synth/portal_api.py) on 127.0.0.1: every fault survived, an interrupted pull resumed without gaps or
duplicates. (Progress on issue 10: the connector and the simulator; the YAML source configuration and the Dagster
asset come next.)"""

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
