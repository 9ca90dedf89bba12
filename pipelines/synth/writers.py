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


def write_workbook(
    path: Path,
    row: dict,
    columns: list[str],
    style: int,
    text_numbers: frozenset[str] = frozenset(),
    header_names: dict[str, str] | None = None,
) -> None:
    """One Pokja workbook: three title rows (the first merged), a blank row, the header on row 5, data on row 6.

    kode_desa is typed as a 10-digit number (as Excel keeps it), tanggal_lapor as an Excel date, and the columns in
    `text_numbers` as text cells ("12" typed with a leading apostrophe).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True})
    wb.set_properties({"title": "Laporan Bulanan Kampung KB", "author": "Pokja Kampung KB", "created": FIXED_CREATED})
    ws = wb.add_worksheet("Laporan Bulanan")
    bold = wb.add_format({"bold": True, "align": "center"})
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    ws.merge_range(0, 0, 0, 8, "LAPORAN BULANAN KAMPUNG KB", bold)
    ws.write(1, 0, f"{row['nama_kampung']} - Kode Desa/Kel. {row['kode_desa']}")
    ws.write(2, 0, f"Bulan: {P.BULAN_ID[int(row['bulan']) - 1]} {int(row['tahun'])}")
    names = header_names or {}
    styler = HEADER_STYLES[style % len(HEADER_STYLES)]
    ws.write_row(4, 0, [styler(names.get(c, c)) for c in columns])
    for j, c in enumerate(columns):
        v = row[c]
        if c == "kode_desa":
            ws.write_number(5, j, int(str(v).replace(".", "")))
        elif c == "tanggal_lapor":
            ws.write_datetime(5, j, dt.datetime.combine(v, dt.time()), date_fmt)
        elif c in text_numbers:
            ws.write_string(5, j, str(int(v)))
        else:
            ws.write_number(5, j, int(v))
    wb.close()
