"""Delivered files as villages and agencies really send them (issue 21): one file per variant, with its expected
outcome written here by hand: the values read, or the quarantine / rejection reason. The text variants are files in
tests/deliveries/ (open them: that is what arrived); workbooks, huge and broken files are made by the test.

Each case is ingested alone into a fresh warehouse; the landed values, the quarantined rows and their rules, the rows
left out as not data, and the manifest's record of the file are compared with the table.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import re
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from pipelines.lib import manifest as mf
from pipelines.lib.entities import ENTITIES
from pipelines.lib.ingest import ingest_entity
from pipelines.synth.writers import write_ods, write_xls
from tests.conftest import TEST_KEY, TODAY

CORPUS = Path(__file__).parent / "deliveries"
KKBPK_HEADER = (CORPUS / "kkbpk_domain_fields_only.csv").read_text().splitlines()[0].split(";")
BASE = [40, 10, 9, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1]  # a valid report's counts
DELIVERED = dt.datetime(2024, 2, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))  # the file's mtime: 2 Feb
DESA = "19.01.01.2007"


def report_row(kkb_id: int, counts=None, bulan=1) -> list:
    return [kkb_id, int(DESA.replace(".", "")), 2024, bulan, *(counts or BASE)]


# ---------------------------------------------------------------- files made by the test


def pokja_workbook(path: Path) -> None:
    """Two monthly sheets with title rows, a blank column, an example row, a merged desa code, a hidden row, a
    totals row and a signature block; a sheet of instructions; a hidden old sheet; a hidden code column."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    for name, hidden in (("Januari", False), ("Februari", False), ("Petunjuk", False), ("Lama", True)):
        ws = wb.add_worksheet(name)
        if name == "Petunjuk":
            ws.write(0, 0, "Isi laporan sesuai contoh pada baris 4")
            continue
        bulan = 2 if name == "Februari" else 1
        ws.merge_range(0, 0, 0, 8, "LAPORAN BULANAN KAMPUNG KB")
        ws.write(1, 0, "Kec. Sungailiat")
        # header on row 3: No, the fields, with an empty column between kode_desa and tahun
        header = ["No", KKBPK_HEADER[0], KKBPK_HEADER[1], None, *KKBPK_HEADER[2:]]
        ws.write_row(2, 0, header)
        body = [
            ["CONTOH", 1, 1901012007, None, 2024, bulan, *BASE],
            [1, 1901001, 1901012007, None, 2024, bulan, *BASE],
            [2, 1901002, None, None, 2024, bulan, *BASE],  # desa merged down from the row above
            [3, 1901003, 1901012007, None, 2024, bulan, *BASE],  # hidden row
            ["JUMLAH", None, None, None, None, None, 80, 20, 18],
        ]
        for i, row in enumerate(body, start=3):
            ws.write_row(i, 0, row)
        ws.merge_range(4, 2, 5, 2, 1901012007)
        ws.set_row(6, None, None, {"hidden": True})
        ws.set_column(2, 2, None, None, {"hidden": True})  # the code column hidden: read all the same
        ws.write(9, 1, "Sungailiat, 2 Februari 2024")
        ws.write(10, 1, "Ketua Pokja")
        ws.write(13, 1, "( Siti Aminah )")
        if hidden:
            ws.hide()
    wb.close()


def recap_workbook(path: Path) -> None:
    """A kecamatan recap: 'Nama Kampung KB' merged over two header cells; two Kampung KB of one desa with jml_jiwa
    and jml_keluarga merged down over both (one figure for the desa); a last report with its figures left blank."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Rekap")
    header = [KKBPK_HEADER[0], "nama_kampung", None, *KKBPK_HEADER[1:]]
    ws.write_row(0, 0, header)
    ws.merge_range(0, 1, 0, 2, "Nama Kampung KB")
    ws.write_row(1, 0, [1901001, "Melati", None, *report_row(1901001)[1:]])
    ws.write_row(2, 0, [1901002, "Mawar", None, *report_row(1901002)[1:]])
    ws.merge_range(1, 4 + 3, 2, 4 + 3, 80)  # jml_jiwa (column H) merged down over both reports
    ws.write_row(3, 0, [1901003, "Anggrek", None, 1901012007, 2024, 1])  # figures left blank
    ws.write(5, 1, "Sungailiat, 2 Februari 2024")
    wb.close()


# the rows of each sheet of pokja_workbook that are not data: the example, the totals, the signature block
POKJA_NOT_DATA = {
    4: "example row",
    8: "totals row",
    10: "below the table",
    11: "below the table",
    14: "below the table",
}


def formulas_workbook(path: Path) -> None:
    """jml_pus as a formula: saved with its value in row 2 (xlsxwriter), without one in row 3 (as a program that
    never opened the workbook writes it)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Laporan"
    ws.append(KKBPK_HEADER)
    ws.append(report_row(1901001))
    ws.append(report_row(1901002))
    ws["G3"] = "=SUM(L3:V3)"  # no saved value
    wb.save(path)
    # row 2's jml_pus as a formula with its saved value: patch the sheet XML as Excel writes it
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    sheet = sheet.replace('<c r="G2" t="n"><v>9</v></c>', '<c r="G2"><f>SUM(L2:V2)</f><v>9</v></c>')
    assert "<f>SUM(L2:V2)</f><v>9</v>" in sheet
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def xls_workbook(path: Path) -> None:
    """An old office's .xls: a title row, the header on row 3, no submission date."""
    write_xls(path, {"Laporan": [["LAPORAN KAMPUNG KB JANUARI 2024"], [], KKBPK_HEADER, report_row(1901001)]})


def far_cell_xls(path: Path) -> None:
    """An .xls with a stray cell in its last row and column (65,536 x 256: 16.8 million cells)."""
    import xlwt

    grid: list[list] = [KKBPK_HEADER, report_row(1901001)]
    wb = xlwt.Workbook()
    ws = wb.add_sheet("Laporan")
    for r, row in enumerate(grid):
        for c, v in enumerate(row):
            ws.write(r, c, v)
    ws.write(65535, 255, "x")
    wb.save(str(path))


def ods_workbook(path: Path) -> None:
    write_ods(path, {"Laporan": [["LAPORAN KAMPUNG KB"], KKBPK_HEADER, report_row(1901001), report_row(1901002)]})


def far_cell_workbook(path: Path) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Laporan")
    ws.write_row(0, 0, KKBPK_HEADER)
    ws.write_row(1, 0, report_row(1901001))
    ws.write(1048575, 16383, "x")  # a stray cell in the last row and column
    wb.close()


def absurd_dimension_workbook(path: Path) -> None:
    """A workbook whose sheet declares A1:XFD1048576 (17 billion cells) but holds a header and two rows."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Laporan")
    ws.write_row(0, 0, KKBPK_HEADER)
    ws.write_row(1, 0, report_row(1901001))
    ws.write_row(2, 0, report_row(1901002))
    wb.close()
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = re.sub(
        r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', sheet
    ).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def zip_bomb_workbook(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            block = b"\0" * (1 << 20)
            for _ in range(600):
                f.write(block)


def gzip_bomb(path: Path) -> None:
    line = b"1901001;19.01.01.2007;2024;1;" + b";".join(str(v).encode() for v in BASE) + b"\n"
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(";".join(KKBPK_HEADER).encode() + b"\n")
        for _ in range(600):
            f.write(line * ((1 << 20) // len(line)))


def one_long_line(path: Path) -> None:
    path.write_bytes(";".join(KKBPK_HEADER).encode() + b"\n1901001;" + b"9" * (9 << 20) + b"\n")


CP1252_ROW = "1901001;19.01.01.2007;2024;1;" + ";".join(map(str, BASE)) + ";Melati\n"
CP1252_ROWS = (1 << 20) // len(CP1252_ROW) + 10  # ASCII rows before the first Windows-1252 byte: over 1 MiB


def cp1252_after_first_mib(path: Path) -> None:
    """A large register export in Windows-1252 whose first non-ASCII byte comes after 1 MiB."""
    text = ";".join([*KKBPK_HEADER, "nama_kampung"]) + "\n" + CP1252_ROW * CP1252_ROWS
    text += f"1901002;19.01.01.2007;2024;1;{';'.join(map(str, BASE))};Kampung KB Ma’ruf – Pesisir\n"
    path.write_bytes(text.encode("cp1252"))


def empty(path: Path) -> None:
    path.write_bytes(b"")


# ---------------------------------------------------------------- the table


@dataclass
class Case:
    variant: str  # what arrived, in the words of the README's table
    entity: str
    name: str  # the file's name in raw/<entity folder>/
    source: str | Callable[[Path], None]  # a file of tests/deliveries/, or a function making it
    status: str = "loaded"
    reason: str | None = None  # rejected: words the reason must hold
    landed: dict = field(default_factory=dict)  # (sheet, row) or row -> {column: value}
    quarantined: dict = field(default_factory=dict)  # (sheet, row) or row -> [rules]
    skipped: dict = field(default_factory=dict)  # (sheet, row) or row -> how the reason starts: every row not data
    note: str | None = None
    sheets: list[str] = field(default_factory=list)  # words each of the manifest's sheet notes holds
    fresh: bool = False  # the file's mtime is now (still being copied?)
    before: tuple[str, str] | None = None  # (entity, corpus file) loaded first: a source this one looks values up in


def R(sumber: str) -> dict:  # noqa: N802 - reads as a column pair in the table
    """A submission date taken from the file's arrival (2 Feb, its mtime), and where it came from."""
    return {"tanggal_lapor": DELIVERED.date(), "tanggal_lapor_sumber": sumber}


CASES = [
    # item 1: the documented fields are the contract
    Case("only DOMAIN.md's fields (no submission date)", "kkbpk_bulanan", "a.csv", "kkbpk_domain_fields_only.csv",
         landed={2: {"kampung_kb_id": 1901001, "kode_desa": DESA, **R("waktu_file")},
                 3: {"kode_desa": DESA, "jml_pus": 9, **R("waktu_file")}}),
    # numbers
    Case("thousands dots (1.234, 12.500, 1.234.567) beside plain 1234", "kkbpk_bulanan", "a.csv",
         "kkbpk_thousands_dots.csv",
         landed={2: {"jml_jiwa": 1_234_567, "jml_keluarga": 12_500, "jml_pus": 1_200, "pa_suntik": 1_192},
                 3: {"jml_jiwa": 1234}}),
    Case("a lone dash in a count is nil (0); a blank count is missing", "kkbpk_bulanan", "a.csv",
         "kkbpk_nil_dash_and_blank.csv",
         landed={2: {"pa_mop": 0, "non_kb_iat": 0, "jml_pus": 8}}, quarantined={3: ["missing_value"]}),
    Case("spaces inside numbers and a leading apostrophe", "kkbpk_bulanan", "a.csv", "kkbpk_spaces_and_apostrophe.csv",
         landed={2: {"jml_jiwa": 1234, "jml_keluarga": 10}, 3: {"jml_jiwa": 1234}, 4: {"jml_jiwa": 1234}},
         quarantined={5: ["type_error"]}),
    Case("1.000 in a file whose decimal mark is the point", "kkbpk_bulanan", "a.csv",
         "kkbpk_dot_decimal_file_thousands_ambiguous.csv",
         landed={2: {"jml_keluarga": 10}}, quarantined={3: ["ambiguous_number"]}),
    Case("decimal comma and day-first dates", "eppgbm", "a.csv", "eppgbm_decimal_comma_day_first.csv",
         landed={2: {"berat_kg": 11.4, "tinggi_cm": 86.5, "umur_bulan": 22, "tanggal_ukur": dt.date(2024, 1, 15)},
                 3: {"berat_kg": 10.0, "tinggi_cm": 81.25, "umur_bulan": 19, "tanggal_ukur": dt.date(2024, 1, 16)}}),
    Case("a weight of 12.500 (kg, never written with thousands): its one mark is the decimal mark", "eppgbm",
         "a.csv", "eppgbm_weight_three_decimals.csv",
         landed={2: {"berat_kg": 12.5}, 3: {"berat_kg": 11.0}}),
    Case("submission dates with a time after them, an unreadable one (dated by arrival, figures kept)",
         "kkbpk_bulanan", "a.csv", "kkbpk_dates_with_times.csv",
         landed={2: {"tanggal_lapor": dt.date(2024, 2, 13), "tanggal_lapor_sumber": "laporan"},
                 3: {"tanggal_lapor": dt.date(2024, 2, 2), "tanggal_lapor_sumber": "laporan"},
                 4: {"tanggal_lapor": dt.date(2024, 2, 2), "tanggal_lapor_sumber": "laporan"},
                 5: {"tanggal_lapor": dt.date(2024, 8, 2), "tanggal_lapor_sumber": "laporan"},  # Agst: Agustus
                 6: R("waktu_file:tanggal_tak_terbaca")}),
    Case("both thousands dots and decimal commas in one file; an Excel serial date; Windows-1252", "profil_kampung_kb",
         "a.csv", "profil_excel_serial_thousands_and_decimal_comma.csv",
         landed={2: {"pokja_jumlah": 1200, "latitude": -1.8765, "longitude": 106.1234,
                     "tanggal_pencanangan": dt.date(2019, 6, 29), "nama_kampung": "Kampung KB Melati – Ma’ruf"}}),
    # dates
    Case("month-first dates (MM/DD/YYYY) learnt from the file", "eppgbm", "a.csv", "eppgbm_month_first.csv",
         landed={2: {"tanggal_ukur": dt.date(2024, 1, 5), "umur_bulan": 21, "berat_kg": 11.4},
                 3: {"tanggal_ukur": dt.date(2024, 2, 3), "umur_bulan": 21, "tinggi_cm": 81.0}}),
    Case("dates whose order the file cannot tell", "eppgbm", "a.csv", "eppgbm_dates_order_unknown.csv",
         landed={3: {"tanggal_ukur": dt.date(2024, 1, 3)}}, quarantined={2: ["ambiguous_date"]}),
    Case("a submission date whose order the file cannot tell: dated by arrival", "kkbpk_bulanan", "a.csv",
         "kkbpk_ambiguous_submission_date.csv",
         landed={2: R("waktu_file:tanggal_ambigu"), 3: R("waktu_file:tanggal_ambigu")}),
    Case("Indonesian month names, 2-digit years, a weekday, a month by name", "kkbpk_bulanan", "a.csv",
         "kkbpk_month_names.csv",
         landed={r: {"bulan": 3, "tanggal_lapor": dt.date(2024, 4, 2), "tanggal_lapor_sumber": "laporan"}
                 for r in (2, 3, 4)}),
    Case("two-digit birth years", "pk_anggota", "a.csv", "pk_anggota_two_digit_years.csv",
         landed={2: {"umur_tahun": 31}, 3: {"umur_tahun": 40}, 5: {"umur_tahun": 21}},
         quarantined={4: ["two_digit_year"]}),
    Case("JSON lines: a line cut short, a line that is not an object, a blank line, a field not in the spec",
         "intervensi", "a.jsonl", "intervensi_broken_line.jsonl",
         before=("profil_kampung_kb", "profil_excel_serial_thousands_and_decimal_comma.csv"),
         landed={1: {"intervensi_id": 5001, "instansi": ["Puskesmas", "OPD KB"]}},
         quarantined={2: ["invalid_json"], 3: ["invalid_json"], 5: ["invalid_code"]}),
    # CSV
    Case("tab-separated, a title line above the header, a totals row", "kkbpk_bulanan", "a.tsv",
         "kkbpk_tab_title_line_totals_row.tsv",
         landed={3: {"kampung_kb_id": 1901001}, 4: {"kampung_kb_id": 1901002}}, skipped={5: "totals row"}),
    Case("an unquoted decimal comma in a ',' file; a row with fewer fields", "eppgbm", "a.csv",
         "eppgbm_unquoted_decimal_comma.csv",
         landed={4: {"berat_kg": 10.5, "tinggi_cm": 81.5}}, quarantined={2: ["field_count"], 3: ["field_count"]}),
    Case("UTF-16 with BOM, tab-separated (Excel's Unicode text)", "kkbpk_bulanan", "a.txt",
         "kkbpk_utf16_excel_unicode_text.txt", landed={2: {"kampung_kb_id": 1901001, "jml_jiwa": 40}}),
    Case("a Windows-1252 byte after the first MiB of a large file", "kkbpk_bulanan", "a.csv", cp1252_after_first_mib,
         landed={**{r: {"nama_kampung": "Melati"} for r in range(2, CP1252_ROWS + 2)},
                 CP1252_ROWS + 2: {"kampung_kb_id": 1901002, "nama_kampung": "Kampung KB Ma’ruf – Pesisir"}}),
    Case("a trailing delimiter on the data rows only (empty fields after the last column)", "kkbpk_bulanan", "a.csv",
         "kkbpk_trailing_delimiter.csv",
         landed={2: {"kampung_kb_id": 1901001}, 3: {"kampung_kb_id": 1901002}}, quarantined={4: ["field_count"]}),
    Case("CR-only line ends (old Mac exports)", "kkbpk_bulanan", "a.csv", "kkbpk_cr_line_ends.csv",
         landed={2: {"kampung_kb_id": 1901001}, 3: {"kampung_kb_id": 1901002}}),
    Case("UTF-8 and Windows-1252 mixed in one file", "kkbpk_bulanan", "a.csv", "kkbpk_mixed_encodings.csv",
         status="rejected", reason="mixes encodings"),
    # workbooks
    Case("a Pokja workbook: sheets, title rows, blank column, example, merged cell, hidden row/sheet/column, totals, "
         "signature", "kkbpk_bulanan", "a.xlsx", pokja_workbook,
         landed={("Januari", 5): {"kampung_kb_id": 1901001, "kode_desa": DESA, "bulan": 1},
                 ("Januari", 6): {"kampung_kb_id": 1901002, "kode_desa": DESA},
                 ("Februari", 5): {"kampung_kb_id": 1901001, "bulan": 2},
                 ("Februari", 6): {"kampung_kb_id": 1901002, "kode_desa": DESA}},
         quarantined={("Januari", 7): ["hidden_row"], ("Februari", 7): ["hidden_row"],
                      ("Lama", 5): ["hidden_sheet"], ("Lama", 6): ["hidden_sheet"], ("Lama", 7): ["hidden_sheet"]},
         skipped={(sh, r): why for sh in ("Januari", "Februari", "Lama") for r, why in POKJA_NOT_DATA.items()},
         sheets=["Januari (read", "Februari (read", "Petunjuk (not read: no header", "Lama (hidden",
                 "hidden columns read: kode_desa"]),
    Case("a recap: a header cell merged over two cells, a count merged down over two reports, a row of blanks",
         "kkbpk_bulanan", "a.xlsx", recap_workbook,
         quarantined={("Rekap", 2): ["merged_cell"], ("Rekap", 3): ["merged_cell"], ("Rekap", 4): ["missing_value"]},
         skipped={("Rekap", 6): "below the table"}),
    Case("formulas with and without a saved value", "kkbpk_bulanan", "a.xlsx", formulas_workbook,
         landed={("Laporan", 2): {"jml_pus": 9}}, quarantined={("Laporan", 3): ["formula_without_value"]}),
    Case(".xls from an old office", "kkbpk_bulanan", "a.xls", xls_workbook,
         landed={("Laporan", 4): {"kampung_kb_id": 1901001, "kode_desa": DESA, **R("waktu_file")}}),
    Case("an .xls reaching its last row and column (a stray cell)", "kkbpk_bulanan", "a.xls", far_cell_xls,
         status="rejected", reason="stray cell"),
    Case(".ods (LibreOffice)", "kkbpk_bulanan", "a.ods", ods_workbook,
         landed={("Laporan", 3): {"kampung_kb_id": 1901001}, ("Laporan", 4): {"kampung_kb_id": 1901002}}),
    Case("a workbook reaching the last row and column (a stray cell)", "kkbpk_bulanan", "a.xlsx", far_cell_workbook,
         status="rejected", reason="stray cell"),
    Case("a workbook declaring 17 billion cells (its <dimension>) but holding three rows: the cells are measured",
         "kkbpk_bulanan", "a.xlsx", absurd_dimension_workbook,
         landed={("Laporan", 2): {"kampung_kb_id": 1901001}, ("Laporan", 3): {"kampung_kb_id": 1901002}}),
    Case("a zip bomb posing as a workbook", "kkbpk_bulanan", "a.xlsx", zip_bomb_workbook,
         status="rejected", reason="zip bomb"),
    # files
    Case("0 bytes", "kkbpk_bulanan", "a.csv", empty, status="rejected", reason="empty (0 bytes)"),
    Case("header only (a month with no entries)", "kkbpk_bulanan", "a.csv", "kkbpk_header_only.csv",
         note="header only"),
    Case("a gzip bomb", "kkbpk_bulanan", "a.csv.gz", gzip_bomb, status="rejected", reason="decompression bomb"),
    Case("a single line of 9 MiB", "kkbpk_bulanan", "a.csv", one_long_line, status="rejected", reason="longer than"),
    Case("a file still being copied (changed a moment ago)", "kkbpk_bulanan", "a.csv", "kkbpk_domain_fields_only.csv",
         status="waiting", fresh=True),
]  # fmt: skip


def _deliver(case: Case, raw_dir: Path) -> Path:
    path = raw_dir / ENTITIES[case.entity].folder / case.name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(case.source, str):
        shutil.copyfile(CORPUS / case.source, path)
    else:
        case.source(path)
    if not case.fresh:
        os.utime(path, (DELIVERED.timestamp(), DELIVERED.timestamp()))
    return path


def _rows(folder: Path) -> list[dict]:
    files = sorted(str(p) for p in folder.rglob("*.parquet") if p.parent.name != "_schema")
    if not files:
        return []
    return duckdb.sql(f"select * from read_parquet({files}, union_by_name = true)").df().to_dict("records")


def _plain(v):
    """A value as the table writes it: a date, not a timestamp; a list, not an array."""
    if isinstance(v, dt.datetime):
        return v.date()
    return list(v) if hasattr(v, "tolist") and not isinstance(v, str) else v


def _at(r: dict):
    return (r["_sheet"], r["_row"]) if r.get("_sheet") else r["_row"]


@pytest.mark.parametrize("case", CASES, ids=[c.variant for c in CASES])
def test_each_delivered_variant_is_read_right_or_refused_with_its_reason(case, folders, monkeypatch):
    if case.fresh:
        monkeypatch.setenv("KKB_SETTLE_SECONDS", "60")
    if case.before:
        entity, source = case.before
        _deliver(Case("", entity, "first.csv", source), folders.raw_dir)
        assert ingest_entity(ENTITIES[entity], folders, TEST_KEY, today=TODAY).rows_landed
    _deliver(case, folders.raw_dir)
    report = ingest_entity(ENTITIES[case.entity], folders, TEST_KEY, today=TODAY)
    if case.status == "waiting":
        assert report.files == [] and report.files_settling == [f"{ENTITIES[case.entity].folder}/{case.name}"]
        return
    [rec] = report.files
    assert rec.status == case.status, rec.reason
    if case.status == "rejected":
        assert case.reason in rec.reason
        assert not _rows(folders.landing_dir / case.entity) and not _rows(folders.quarantine_dir / case.entity)
        return
    landed = {_at(r): r for r in _rows(folders.landing_dir / case.entity)}
    quarantined = {_at(r): r for r in _rows(folders.quarantine_dir / case.entity)}
    assert set(landed) == set(case.landed), "landed rows"
    for at, values in case.landed.items():
        got = {k: landed[at][k] for k in values}
        got = {k: _plain(v) for k, v in got.items()}
        assert got == values, at
    assert {at: list(r["failed_rules"]) for at, r in quarantined.items()} == case.quarantined
    for r in quarantined.values():  # the reason names the problem, and the line for a shifted row
        assert all(rule in r["reasons"] for rule in r["failed_rules"])
        if "field_count" in r["failed_rules"]:
            assert f"line {r['_row']} has" in r["reasons"]
    # every row accounted for: landed + quarantined = read; rows that are not data are listed, not counted
    assert rec.rows_read == len(landed) + len(quarantined)
    skipped = {(x["sheet"], x["row"]) if x["sheet"] else x["row"]: x["reason"] for x in rec.skipped or []}
    assert set(skipped) == set(case.skipped) and rec.rows_skipped == len(skipped)
    assert all(skipped[at].startswith(why) for at, why in case.skipped.items()), skipped
    if case.note:
        assert case.note in (rec.note or "")
    for words in case.sheets:
        assert words in (rec.sheets or ""), rec.sheets
    # the manifest keeps what the report says
    [row] = [r for r in mf.read_manifest(folders, case.entity) if r["path"].endswith(case.name)]
    assert (row["status"], row["rows_read"], row["rows_skipped"]) == (rec.status, rec.rows_read, rec.rows_skipped)


def test_the_child_reader_refuses_sheets_at_the_same_size_as_the_conventions_say():
    from pipelines.lib import conventions
    from pipelines.lib.readers import calamine_child

    assert calamine_child.MAX_CELLS == conventions.MAX_SHEET_CELLS  # the child script imports nothing of ours
