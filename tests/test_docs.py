"""`make docs` (kkb docs) on the session's e2e warehouse: the dbt docs site and the Data Docs open offline in
Debian's chromium, with no request to the internet and no script error of ours. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from pipelines.cli import main
from tests.browser import ARTIFACTS, chromium_tab
from tests.e2e_run import E2E

# dbt-docs (upstream) puts unrendered templates in <img src> / <link href> ("{{ getIcon(...) }}",
# "${require('./assets/favicons/favicon.ico')}"); chromium reports those requests as failed (with their URL) and logs
# "Failed to load resource" (without one). Nothing of ours: any other failed request still fails the test.
UPSTREAM_DBT_DOCS_NOISE = re.compile(
    r"request failed: file://\S*%7B|Failed to load resource|Unsafe attempt to load URL \S*%7B"
)


@pytest.fixture(scope="module")
def docs(e2e: E2E, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("KKB_RAW_DIR", str(e2e.settings.raw_dir))
    mp.setenv("KKB_WAREHOUSE_DIR", str(e2e.settings.warehouse_dir))
    try:
        done = CliRunner().invoke(main, ["docs"])
    finally:
        mp.undo()
    assert done.exit_code == 0, done.output
    return e2e.settings.warehouse_dir / "docs"


def browse(url: str, shot: str, wait_for: str) -> tuple[list[str], str]:
    with chromium_tab(offline=True) as (tab, problems):
        tab.goto(url)
        tab.wait_for_selector(wait_for, timeout=30_000)
        text = tab.inner_text("body")
        tab.screenshot(path=str(ARTIFACTS / shot))
    return problems, text


def test_the_docs_index_links_the_dbt_docs_the_report_and_each_sources_data_docs(docs):
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert 'href="dbt/index.html"' in index and 'href="../report/index.html"' in index
    for entity in ("kkbpk_bulanan", "skdn", "pk_keluarga"):
        assert f"<td>{entity}</td>" in index
    for link in re.findall(r'<a href="([^"]+)"', index):
        assert (docs / link.split("#")[0]).resolve().exists(), link
    problems, text = browse((docs / "index.html").as_uri(), "docs-index.png", "table")
    assert problems == [] and "Great Expectations Data Docs" in text


def test_the_dbt_docs_site_opens_offline_on_a_reporting_model(docs):
    page = docs / "dbt" / "index.html"
    url = page.as_uri() + "#!/model/model.kampung_kb.rpt_kabupaten_bulanan"
    problems, text = browse(url, "dbt-docs.png", "h1 >> text=rpt_kabupaten_bulanan")
    assert [p for p in problems if not UPSTREAM_DBT_DOCS_NOISE.search(p)] == []
    assert "rpt_kabupaten_bulanan" in text and "cpr" in text.lower()


def test_a_data_docs_page_opens_offline_without_script_errors(docs, e2e: E2E):
    pages = sorted((e2e.settings.warehouse_dir / "data_docs" / "kkbpk_bulanan").glob("*/validation-*.html"))
    assert pages
    head = pages[0].read_text(encoding="utf-8").split("</head>", 1)[0]
    assert "https://" not in head and "<script" not in head
    problems, text = browse(pages[0].as_uri(), "data-docs.png", "table")
    assert problems == [] and "Expectation Validation Result" in text
