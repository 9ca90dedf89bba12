"""The Kampung KB report: one static HTML page per publication, from the BI snapshot only (already suppressed), with
charts (plotly.js shipped beside the page, so it works offline) and Indonesian labels.

Per province: the headline figures of the newest month, coverage against "1 kecamatan 1 Kampung KB" and "every desa"
per kabupaten/kota, CPR / unmet need / MKJP trends, SKDN and stunting, the class distribution of the Kampung KB,
reporting completeness and timeliness, and a table per kecamatan. A hidden (suppressed) figure shows as "—".
"""

from __future__ import annotations

import datetime as dt
import html
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import plotly
import plotly.graph_objects as go

from pipelines.lib import duck
from pipelines.lib.sql import one, scalar

REPORT_NAME = "index.html"
PLOTLY_JS = "plotly.min.js"
HIDDEN = "—"  # a figure suppressed for privacy (small cell)

NAMA_BULAN = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"]
NAMA_BULAN_PANJANG = [
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
]  # fmt: skip
KELAS = [
    ("kampung_kb_dasar", "Dasar"),
    ("kampung_kb_berkembang", "Berkembang"),
    ("kampung_kb_mandiri", "Mandiri"),
    ("kampung_kb_berkelanjutan", "Berkelanjutan"),
]
# (column, label, unit) of the province headline cards
RINGKASAN = [
    ("jumlah_kampung_kb_aktif", "Kampung KB aktif", ""),
    ("cakupan_kecamatan", "Kecamatan dengan Kampung KB", "%"),
    ("cakupan_desa", "Desa/kelurahan dengan Kampung KB", "%"),
    ("cpr", "CPR (peserta KB aktif / PUS)", "%"),
    ("unmet_need", "Unmet need", "%"),
    ("mkjp", "MKJP (dari peserta KB aktif)", "%"),
    ("stunting", "Stunting (e-PPGBM)", "%"),
    ("kelengkapan_laporan", "Kelengkapan laporan", "%"),
    ("ketepatan_waktu", "Ketepatan waktu laporan", "%"),
]
# (column, header) of the table per kecamatan
TABEL_KECAMATAN = [
    ("jumlah_kampung_kb_aktif", "Kampung KB"),
    ("cakupan_desa", "Desa dgn Kampung KB (%)"),
    ("cpr", "CPR (%)"),
    ("unmet_need", "Unmet need (%)"),
    ("mkjp", "MKJP (%)"),
    ("d_s", "D/S (%)"),
    ("stunting", "Stunting (%)"),
    ("kelengkapan_laporan", "Kelengkapan (%)"),
]


@dataclass
class ReportInfo:
    path: Path
    publication: str
    newest_period: int | None
    provinces: list[str]
    charts: int
    hidden_cells_shown: int
    summary_markdown: str  # the province headline figures, for the Dagster UI


def bulan_label(periode_key: int, long: bool = False) -> str:
    tahun, bulan = divmod(int(periode_key), 100)
    return f"{(NAMA_BULAN_PANJANG if long else NAMA_BULAN)[bulan - 1]} {tahun}"


def angka(value, unit: str = "") -> str:
    """A figure as Indonesians write it (1.234,5) or the hidden mark."""
    if value is None:
        return HIDDEN
    if unit in ("%", "pct"):
        text = f"{float(value):,.1f}"
    elif isinstance(value, float) and not value.is_integer():
        text = f"{value:,.1f}"
    else:
        text = f"{int(value):,}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".") + (" %" if unit == "%" else "")


def short(nama_kab: str) -> str:
    """Kabupaten Bangka Barat -> Kab. Bangka Barat (chart axes)."""
    return nama_kab.replace("Kabupaten ", "Kab. ", 1)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    rel = con.execute(sql, params or [])
    cols = [d[0] for d in rel.description]
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


class _Page:
    """Collects the HTML parts and counts what it shows."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.charts = 0
        self.hidden = 0

    def chart(self, fig: go.Figure, caption: str) -> None:
        self.charts += 1
        for trace in fig.data:  # two decimals are plenty on a chart, and keep the page small
            trace.y = [None if v is None else round(float(v), 2) for v in trace.y]
        fig.update_layout(
            margin={"l": 50, "r": 20, "t": 50, "b": 40},
            height=380,
            template="plotly_white",
            legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
            separators=",.",
        )
        div = fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False, "responsive": True})
        self.parts.append(f'<figure class="chart">{div}<figcaption>{html.escape(caption)}</figcaption></figure>')

    def cell(self, value, unit: str = "") -> str:
        if value is None:
            self.hidden += 1
            return f'<td class="hidden" title="disembunyikan: sel kecil">{HIDDEN}</td>'
        return f'<td class="num">{angka(value, unit)}</td>'


def _trend(x: list[str], months: list[dict], series: tuple[tuple[str, str], ...], yaxis: dict) -> go.Figure:
    """One line per (column, label) over the province's months."""
    fig = go.Figure(
        [go.Scatter(name=label, x=x, y=[m[col] for m in months], mode="lines+markers") for col, label in series]
    )
    fig.update_layout(yaxis=yaxis)
    return fig


def _province(page: _Page, con: duckdb.DuckDBPyConnection, prov: dict, newest: int) -> str:
    kode = prov["kode_prov"]
    months = _rows(con, "select * from rpt_provinsi_bulanan where kode_prov = ? order by periode_key", [kode])
    kab = _rows(con, "select * from rpt_kabupaten_bulanan where kode_prov = ? order by kode_kab, periode_key", [kode])
    kab_now = [r for r in kab if r["periode_key"] == newest]
    now = next((m for m in months if m["periode_key"] == newest), None)
    x = [bulan_label(m["periode_key"]) for m in months]
    page.parts.append(f'<section id="prov-{html.escape(kode)}"><h2>Provinsi {html.escape(prov["nama_prov"])}</h2>')

    cards = "".join(
        f'<div class="card"><div class="value">{angka(now[c], u) if now else HIDDEN}</div>'
        f'<div class="label">{html.escape(label)}</div></div>'
        for c, label, u in RINGKASAN
    )
    page.parts.append(f'<h3>Ringkasan {bulan_label(newest, long=True)}</h3><div class="cards">{cards}</div>')

    names = [short(r["nama_kab"]) for r in kab_now]
    page.parts.append("<h3>Cakupan Kampung KB</h3>")
    fig = go.Figure(
        [
            go.Bar(name="Kecamatan dengan Kampung KB (%)", x=names, y=[r["cakupan_kecamatan"] for r in kab_now]),
            go.Bar(name="Desa/kelurahan dengan Kampung KB (%)", x=names, y=[r["cakupan_desa"] for r in kab_now]),
        ]
    )
    fig.update_layout(barmode="group", yaxis={"title": "%", "range": [0, 100]})
    page.chart(fig, f"Target: 1 kecamatan 1 Kampung KB, dan setiap desa/kelurahan ({bulan_label(newest, long=True)}).")

    page.parts.append("<h3>Keluarga berencana</h3>")
    fig = _trend(
        x,
        months,
        (("cpr", "CPR"), ("mkjp", "MKJP"), ("unmet_need", "Unmet need")),
        {"title": "%", "rangemode": "tozero"},
    )
    page.chart(fig, "Tren bulanan di tingkat provinsi (laporan bulanan Kampung KB).")
    fig = go.Figure(
        [
            go.Scatter(
                name=name,
                x=[bulan_label(r["periode_key"]) for r in kab if short(r["nama_kab"]) == name],
                y=[r["cpr"] for r in kab if short(r["nama_kab"]) == name],
                mode="lines",
            )
            for name in names
        ]
    )
    fig.update_layout(yaxis={"title": "CPR (%)", "rangemode": "tozero"})
    page.chart(fig, "CPR per kabupaten/kota.")

    page.parts.append("<h3>Posyandu: SKDN dan stunting</h3>")
    skdn = (("d_s", "D/S (partisipasi penimbangan)"), ("n_d", "N/D (berat badan naik)"))
    fig = _trend(x, months, skdn, {"title": "%", "range": [0, 100]})
    page.chart(fig, "Rekap SKDN posyandu, tingkat provinsi.")
    fig = go.Figure(
        [
            go.Bar(name="Stunting (pengukuran e-PPGBM)", x=names, y=[r["stunting"] for r in kab_now]),
            go.Bar(name="Pendek dan sangat pendek (rekap SKDN)", x=names, y=[r["stunting_skdn"] for r in kab_now]),
        ]
    )
    fig.update_layout(barmode="group", yaxis={"title": "% balita diukur", "rangemode": "tozero"})
    page.chart(fig, f"Prevalensi stunting per kabupaten/kota ({bulan_label(newest, long=True)}).")

    page.parts.append("<h3>Klasifikasi Kampung KB</h3>")
    fig = go.Figure([go.Bar(name=label, x=names, y=[r[col] for r in kab_now]) for col, label in KELAS])
    fig.update_layout(barmode="stack", yaxis={"title": "jumlah Kampung KB"})
    page.chart(fig, f"Kampung KB per kelas ({bulan_label(newest, long=True)}).")

    page.parts.append("<h3>Pelaporan</h3>")
    reporting = (("kelengkapan_laporan", "Kelengkapan"), ("ketepatan_waktu", "Ketepatan waktu"))
    fig = _trend(x, months, reporting, {"title": "% Kampung KB aktif yang melapor", "range": [0, 105]})
    page.chart(fig, "Laporan bulanan yang diterima, dan yang diterima paling lambat tanggal 3 bulan berikutnya.")

    kec = _rows(
        con,
        "select * from rpt_kecamatan_bulanan where kode_prov = ? and periode_key = ? order by kode_kab, kode_kec",
        [kode, newest],
    )
    header = "".join(f"<th>{html.escape(h)}</th>" for _, h in TABEL_KECAMATAN)
    body = []
    for r in kec:
        cells = "".join(page.cell(r[c], "pct" if "(%)" in h else "") for c, h in TABEL_KECAMATAN)
        body.append(f"<tr><td>{html.escape(r['nama_kab'])}</td><td>{html.escape(r['nama_kec'])}</td>{cells}</tr>")
    page.parts.append(
        f"<h3>Per kecamatan ({bulan_label(newest, long=True)})</h3>"
        f'<table class="kecamatan"><thead><tr><th>Kabupaten/kota</th><th>Kecamatan</th>{header}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></section>"
    )
    lines = ["| indikator | nilai |", "|---|---|"]
    lines += [f"| {label} | {angka(now[c], u) if now else HIDDEN} |" for c, label, u in RINGKASAN]
    cols = RINGKASAN[:1] + RINGKASAN[2:]  # per kabupaten: every headline but kecamatan coverage (100 % almost always)
    table = ["| kabupaten/kota | " + " | ".join(label for _, label, _ in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    table += [f"| {r['nama_kab']} | " + " | ".join(angka(r[c], u) for c, _, u in cols) + " |" for r in kab_now]
    title = f"**{prov['nama_prov']}, {bulan_label(newest, long=True)}**"
    return f"{title}\n\n" + "\n".join(lines) + "\n\n**Per kabupaten/kota**\n\n" + "\n".join(table)


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2933;background:#f7f8fa}
header{background:#0b5394;color:#fff;padding:1.2rem 2rem}header h1{margin:0 0 .3rem 0;font-size:1.6rem}
header p{margin:0;opacity:.9}main{padding:1rem 2rem;max-width:1200px}section{margin-bottom:2.5rem}
h2{border-bottom:2px solid #0b5394;padding-bottom:.3rem}.cards{display:flex;flex-wrap:wrap;gap:.8rem}
.card{background:#fff;border-radius:6px;padding:.8rem 1rem;min-width:160px;
box-shadow:0 1px 2px rgba(0,0,0,.1)}.card .value{font-size:1.5rem;font-weight:600;color:#0b5394}
.card .label{font-size:.85rem}
figure.chart{background:#fff;margin:0 0 1rem 0;padding:.5rem;border-radius:6px}
figcaption{font-size:.85rem;color:#52606d}
table{border-collapse:collapse;background:#fff;width:100%;font-size:.85rem}
th,td{border:1px solid #d9dee3;padding:.3rem .5rem}
th{background:#e8eef5;text-align:left}td.num,td.hidden{text-align:right;white-space:nowrap}td.hidden{color:#9aa5b1}
footer{font-size:.8rem;color:#52606d;padding:1rem 2rem}
"""


def render(bi_file: Path, out_dir: Path) -> ReportInfo:
    """Write out_dir/index.html (atomically) and plotly.min.js beside it, from the published BI snapshot."""
    con = duck.connect(str(bi_file), read_only=True)
    try:
        pub_id, published_at = one(con.execute("select publikasi_id, diterbitkan_pada from _publikasi"))
        newest = scalar(con.execute("select max(periode_key) from rpt_provinsi_bulanan"))
        provinces = _rows(con, "select distinct kode_prov, nama_prov from rpt_provinsi_bulanan order by kode_prov")
        page = _Page()
        summaries = [_province(page, con, p, newest) for p in provinces] if newest else []
    finally:
        con.close()
    body = "".join(page.parts) or "<p>Belum ada data laporan pada publikasi ini.</p>"
    period = bulan_label(newest, long=True) if newest else "-"
    doc = f"""<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Laporan Kampung KB {html.escape(period)}</title><link rel="icon" href="data:,">
<script src="{PLOTLY_JS}"></script><style>{CSS}</style></head>
<body><header><h1>Laporan Kampung KB</h1>
<p>Data sampai {html.escape(period)} · publikasi {html.escape(str(pub_id))} · diterbitkan
{html.escape(f"{published_at:%d-%m-%Y %H:%M} UTC" if isinstance(published_at, dt.datetime) else str(published_at))}</p>
</header><main>{body}</main>
<footer>Sumber: laporan bulanan Kampung KB, profil Kampung KB, rekap SKDN dan e-PPGBM posyandu, Pendataan Keluarga.
Angka 1-4 orang/keluarga disembunyikan ({HIDDEN}) untuk melindungi privasi, beserta angka yang dapat dipakai untuk
menghitungnya kembali. Dibuat dari snapshot BI; tidak memuat data perorangan.</footer></body></html>
"""
    out_dir.mkdir(parents=True, exist_ok=True)
    js = Path(plotly.__file__).parent / "package_data" / PLOTLY_JS
    target_js = out_dir / PLOTLY_JS
    if not target_js.exists() or target_js.stat().st_size != js.stat().st_size:
        shutil.copyfile(js, target_js.with_suffix(".tmp"))
        os.replace(target_js.with_suffix(".tmp"), target_js)
    tmp = out_dir / (REPORT_NAME + ".tmp")
    tmp.write_text(doc, encoding="utf-8")
    os.replace(tmp, out_dir / REPORT_NAME)
    return ReportInfo(
        path=out_dir / REPORT_NAME,
        publication=str(pub_id),
        newest_period=newest,
        provinces=[p["nama_prov"] for p in provinces],
        charts=page.charts,
        hidden_cells_shown=page.hidden,
        summary_markdown="\n\n".join(summaries),
    )
