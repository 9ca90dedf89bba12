"""The Kampung KB report made after each publication of the session's e2e run: it shows the published figures (and
the hidden ones as hidden), works offline, carries no personal data, and renders in a real browser (Debian's
chromium) without a console error. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re

import duckdb

from pipelines.lib import publish, report
from tests.browser import ARTIFACTS, chromium_tab
from tests.e2e_run import E2E, published_id


def page(e2e: E2E) -> str:
    return (e2e.settings.report_dir / report.REPORT_NAME).read_text(encoding="utf-8")


def bi_rows(e2e: E2E, sql: str) -> list[tuple]:
    con = duckdb.connect(str(e2e.settings.bi_dir / publish.SNAPSHOT_NAME), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_the_report_belongs_to_the_current_publication_and_shows_its_figures(e2e: E2E):
    html = page(e2e)
    assert f"publikasi {published_id(e2e.settings.bi_dir / publish.SNAPSHOT_NAME)}" in html
    [(newest, aktif, cpr, unmet, mkjp)] = bi_rows(
        e2e,
        "select periode_key, jumlah_kampung_kb_aktif, cpr, unmet_need, mkjp from rpt_provinsi_bulanan "
        "where periode_key = (select max(periode_key) from rpt_provinsi_bulanan)",
    )
    assert f"Ringkasan {report.bulan_label(newest, long=True)}" in html
    for value, label in ((aktif, "Kampung KB aktif"), (cpr, "CPR"), (unmet, "Unmet need"), (mkjp, "MKJP")):
        shown = report.angka(value, "" if label == "Kampung KB aktif" else "%")
        assert f'<div class="value">{shown}</div><div class="label">{label}' in html, label
    for (name,) in bi_rows(e2e, "select distinct nama_kab from rpt_kabupaten_bulanan"):
        assert report.short(name) in html


def test_the_kecamatan_table_has_a_row_per_kecamatan_and_hides_what_the_snapshot_hides(e2e: E2E):
    html = page(e2e)
    table = html.split('<table class="kecamatan">', 1)[1].split("</table>", 1)[0]
    cols = ", ".join(f"count({c})" for c, _ in report.TABEL_KECAMATAN)
    [(rows, *visible)] = bi_rows(
        e2e,
        f"select count(*), {cols} from rpt_kecamatan_bulanan "
        "where periode_key = (select max(periode_key) from rpt_kecamatan_bulanan)",
    )
    assert table.count("<tr>") - 1 == rows  # minus the header row
    hidden = sum(rows - v for v in visible)
    assert table.count(report.HIDDEN) == hidden
    assert hidden > 0  # the demo data has small cells at kecamatan level: the test sees real suppression


def test_the_report_works_offline_and_carries_no_personal_data(e2e: E2E):
    html = page(e2e)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # nothing fetched from the network
    assert re.findall(r'<script src="([^"]+)"', html) == [report.PLOTLY_JS]
    assert (e2e.settings.report_dir / report.PLOTLY_JS).stat().st_size > 1_000_000
    assert not re.search(r"(?<![\d.])\d{16}(?![\d.])", html)  # no NIK / No. KK (fraction digits aside)
    assert not re.search(r"\b[0-9a-f]{64}\b", html)  # no pseudonym


def test_the_report_renders_in_chromium_without_console_errors(e2e: E2E):
    with chromium_tab(console=("error", "warning")) as (tab, problems):
        tab.goto((e2e.settings.report_dir / report.REPORT_NAME).as_uri())
        tab.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
        charts = tab.locator(".js-plotly-plot").count()
        drawn = tab.locator(".js-plotly-plot .main-svg").count()
        title = tab.title()
        tab.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    assert problems == []
    assert charts == page(e2e).count('<figure class="chart">') == 7
    assert drawn >= charts  # every chart drew its SVG
    assert title.startswith("Laporan Kampung KB")
    assert (ARTIFACTS / "report.png").stat().st_size > 50_000
