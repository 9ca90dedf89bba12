"""Files in the shapes providers deliver them: Pokja workbooks, portal CSV exports, gzip registers, JSONL.

Every writer is byte-deterministic (fixed workbook timestamps, gzip mtime 0) and sets the file's modification time
to when it was delivered, so "first delivered wins" has a meaning for duplicate copies.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import xlsxwriter
from isal import igzip

from pipelines.synth import params as P

FIXED_CREATED = dt.datetime(2024, 1, 1, 8, 0, 0)


def delivered(path: Path, when: dt.date | dt.datetime, seconds: int = 0) -> None:
    """Set the file's mtime to its delivery time (09:00 WIB that day, plus `seconds`)."""
    if isinstance(when, dt.datetime):
        stamp = when
    else:
        stamp = dt.datetime(when.year, when.month, when.day, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    ts = stamp.timestamp() + seconds
    os.utime(path, (ts, ts))


def write_text_csv(
    path: Path,
    df: pd.DataFrame,
    sep: str = ",",
    encoding: str = "utf-8",
    bom: bool = False,
    decimal: str = ".",
    header: list[str] | None = None,
) -> int:
    """A small CSV as a spreadsheet or portal exports it. Returns the data rows written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = df.to_csv(sep=sep, index=False, header=header or True, decimal=decimal, lineterminator="\r\n")
    data = text.encode(encoding)
    if bom:
        data = "\ufeff".encode(encoding) + data if encoding.startswith("utf") else data
    path.write_bytes(data)
    return len(df)


def write_gzip_csv(path: Path, table: pa.Table) -> int:
    """A register export: comma CSV, UTF-8, gzip (ISA-L, a standard gzip stream) with mtime 0: same data, same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    buf.write((",".join(table.column_names) + "\n").encode())  # Arrow would quote every header name
    pacsv.write_csv(table, buf, pacsv.WriteOptions(quoting_style="needed", include_header=False, batch_size=8192))
    path.write_bytes(igzip.compress(buf.getbuffer(), compresslevel=2, mtime=0))
    return table.num_rows


def write_jsonl(path: Path, records: list[dict]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return len(records)


# Header spellings Pokja secretaries use; the pipeline folds case, spacing and punctuation.
HEADER_STYLES = (
    lambda h: h,
    lambda h: h.upper().replace("_", " "),
    lambda h: h.replace("_", " ").title(),
    lambda h: " " + h.replace("_", "  ").upper() + " ",
)


SHEET = "Laporan Bulanan"


def write_workbook(
    path: Path,
    row: dict,
    columns: list[str],
    style: int,
    text_numbers: frozenset[str] = frozenset(),
    header_names: dict[str, str] | None = None,
    *,
    fmt: str = "xlsx",
    nil_dash: bool = False,
    example: bool = False,
    signature: tuple[str, str] | None = None,
) -> dict:
    """One Pokja workbook (.xlsx, or .xls / .ods from other offices): three title rows (the first merged), a blank
    row, the header on row 5, the report below it. Returns its layout: {"sheet", "data_row", "skipped": {row:
    why}} (the rows that are not data, as DOMAIN.md 3.4 describes them).

    kode_desa is a 10-digit number (as Excel keeps it), tanggal_lapor (when in `columns`) a date cell, the columns in
    `text_numbers` text cells ("12" typed with a leading apostrophe). Variants: `nil_dash` writes a zero count as
    "-" (nil, as printed forms do); `example` puts a filled-in example row (CONTOH) above the report; `signature`
    ((place, name)) adds the signature block under the table: place and date, "Ketua Pokja", the name.
    """
    names = header_names or {}
    styler = HEADER_STYLES[style % len(HEADER_STYLES)]
    grid: list[list] = [
        ["LAPORAN BULANAN KAMPUNG KB"],
        [f"{row['nama_kampung']} - Kode Desa/Kel. {row['kode_desa']}"],
        [f"Bulan: {P.BULAN_ID[int(row['bulan']) - 1]} {int(row['tahun'])}"],
        [],
        [styler(names.get(c, c)) for c in columns],
    ]
    skipped: dict[int, str] = {}

    def cell(c: str, v):
        if c == "kode_desa":
            return int(str(v).replace(".", ""))
        if c == "tanggal_lapor":
            return v
        if nil_dash and int(v) == 0:
            return "-"
        return str(int(v)) if c in text_numbers else int(v)

    if example:
        grid.append(["CONTOH", *[1 if c != "tanggal_lapor" else row[c] for c in columns[1:]]])
        skipped[len(grid)] = "example row"
    grid.append([cell(c, row[c]) for c in columns])
    data_row = len(grid)
    if signature:
        place, name = signature
        when = row.get("tanggal_lapor") or dt.date(int(row["tahun"]), int(row["bulan"]), 28)
        grid += [
            [],
            [f"{place}, {when.day} {P.BULAN_ID[when.month - 1]} {when.year}"],
            ["Ketua Pokja"],
            [],
            [f"( {name} )"],
        ]
        for r in (data_row + 2, data_row + 3, data_row + 5):
            skipped[r] = "below the table"
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xls":
        write_xls(path, {SHEET: grid})
    elif fmt == "ods":
        write_ods(path, {SHEET: grid})
    else:
        _write_xlsx(path, grid)
    return {"sheet": SHEET, "data_row": data_row, "skipped": skipped}


def _write_xlsx(path: Path, grid: list[list]) -> None:
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True})
    wb.set_properties({"title": "Laporan Bulanan Kampung KB", "author": "Pokja Kampung KB", "created": FIXED_CREATED})
    ws = wb.add_worksheet(SHEET)
    bold = wb.add_format({"bold": True, "align": "center"})
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    ws.merge_range(0, 0, 0, 8, grid[0][0], bold)
    for r, values in enumerate(grid[1:], start=1):
        for c, v in enumerate(values):
            if isinstance(v, dt.date):
                ws.write_datetime(r, c, dt.datetime.combine(v, dt.time()), date_fmt)
            elif isinstance(v, str):
                ws.write_string(r, c, v)
            elif v is not None:
                ws.write_number(r, c, v)
    wb.close()


def write_xls(path: Path, sheets: dict[str, list[list]]) -> None:
    """An old-office .xls (BIFF8, xlwt): each sheet a grid of values from A1 (None: an empty cell); dates as date
    cells shown day-first."""
    import xlwt  # only the generator and the tests write .xls

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for name, grid in sheets.items():
        ws = wb.add_sheet(name[:31])
        for r, row in enumerate(grid):
            for c, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, dt.date):
                    ws.write(r, c, dt.datetime.combine(v, dt.time()), date_style)
                else:
                    ws.write(r, c, v)
    wb.save(str(path))


def _ods_cell(v: object) -> str:
    from xml.sax.saxutils import escape

    if v is None:
        return "<table:table-cell/>"
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, int | float):
        return f'<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>'
    if isinstance(v, dt.date):
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{v.isoformat()}">'
            f"<text:p>{v:%d/%m/%Y}</text:p></table:table-cell>"
        )
    return f'<table:table-cell office:value-type="string"><text:p>{escape(str(v))}</text:p></table:table-cell>'


def write_ods(path: Path, sheets: dict[str, list[list]]) -> None:
    """An OpenDocument spreadsheet as LibreOffice saves it (each sheet padded with a repeated empty row to the
    sheet's end), written without a library: a zip holding the mimetype, content.xml and the manifest."""
    import zipfile

    path.parent.mkdir(parents=True, exist_ok=True)
    tables = []
    for name, grid in sheets.items():
        rows = "".join("<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>" for row in grid)
        pad = (
            f'<table:table-row table:number-rows-repeated="{1048576 - len(grid)}">'
            '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
        )
        tables.append(f'<table:table table:name="{name}">{rows}{pad}</table:table>')
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.2">'
        f"<office:body><office:spreadsheet>{''.join(tables)}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    fixed = (1980, 1, 1, 0, 0, 0)  # byte-deterministic
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype", fixed), "application/vnd.oasis.opendocument.spreadsheet")
        for name, text in (("content.xml", content), ("META-INF/manifest.xml", manifest)):
            z.writestr(zipfile.ZipInfo(name, fixed), text, compress_type=zipfile.ZIP_DEFLATED)
