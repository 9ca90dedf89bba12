"""Small monthly-report files in the shapes villages send, written by the tests themselves."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter

from pipelines.lib.entities import KKBPK_COUNTS

HEADER = ["kampung_kb_id", "kode_desa", "tahun", "bulan", "tanggal_lapor", *KKBPK_COUNTS]
VALID_DESA = "19.01.01.2007"  # a real desa of Kab. Bangka (Sungailiat)


def counts(**over: int) -> dict[str, int]:
    """A report that satisfies every rule: 9 PUS = 7 users + 2 non-users."""
    c = {k: 1 for k in KKBPK_COUNTS}
    c.update(jml_jiwa=40, jml_keluarga=10, jml_pus=9, jml_remaja=5, non_kb_iat=0, non_kb_tial=0)
    c.update(over)
    return c


def csv_row(kkb_id: int, kode: str = VALID_DESA, tanggal: str = "2024-02-03", bulan: int = 1, **over) -> list[str]:
    c = counts(**over)
    return [str(kkb_id), kode, "2024", str(bulan), tanggal, *[str(c[k]) for k in KKBPK_COUNTS]]


def write_csv(path: Path, rows: list[list[str]], sep: str = ";", encoding: str = "utf-8", header=HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(sep.join(r) for r in [list(header), *rows]) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, kkb_id: int, header=None, text_numbers: bool = False, merged_title: bool = True, **over):
    """A Pokja secretary's workbook: title rows, then the header on row 5, the data on row 6."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Laporan Bulanan")
    if merged_title:
        ws.merge_range("A1:F1", "LAPORAN BULANAN KAMPUNG KB")
    else:
        ws.write("A1", "LAPORAN BULANAN KAMPUNG KB")
    ws.write("A2", "Kampung KB: Melati - Desa/Kel. X, Kec. Sungailiat")
    ws.write("A3", "Periode: Januari 2024")
    ws.write_row(4, 0, header or [h.upper().replace("_", " ") for h in HEADER])
    c = counts(**over)
    ws.write_row(5, 0, [kkb_id, int(VALID_DESA.replace(".", "")), 2024, 1])
    ws.write_datetime(5, 4, dt.datetime(2024, 2, 2), wb.add_format({"num_format": "dd/mm/yyyy"}))
    ws.write_row(5, 5, [str(c[k]) if text_numbers else c[k] for k in KKBPK_COUNTS])
    wb.close()
    return path
