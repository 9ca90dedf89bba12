"""Readers and typing on the edge cases villages really send."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from pipelines.lib.entities import KKBPK_BULANAN, normalise_header
from pipelines.lib.readers import RejectedFile, read_chunks
from tests.kkbpk_files import HEADER, csv_row, write_csv, write_xlsx


def read_all(path):
    info, chunks = read_chunks(path, KKBPK_BULANAN)
    return info, pd.concat(list(chunks), ignore_index=True)


@pytest.mark.parametrize(
    ("header", "expected"),
    [("  JML PUS ", "jml_pus"), ("Ikut UPPKS", "ikut_uppka"), ("ikut_pik", "ikut_pikr"), ("Ikut PIK-R", "ikut_pikr"),
     ("non_kb_ingin_anak_kemudian", "non_kb_iat"), ("Kampung KB ID", "kampung_kb_id"), ("pikr", "pikr")],
)  # fmt: skip
def test_header_normalisation_and_legacy_words(header, expected):
    assert normalise_header(header) == expected


@pytest.mark.parametrize(("sep", "encoding"), [(";", "cp1252"), (",", "utf-8"), (";", "utf-8-sig"), ("\t", "utf-8")])
def test_csv_delimiters_and_encodings(tmp_path, sep, encoding):
    header = [*HEADER, "nama_kampung", "catatan"]
    rows = [[*csv_row(1001), "Kampung KB Dahlia – Ma’ruf", ""], [*csv_row(1002), "Melati", "ok"]]
    path = write_csv(tmp_path / "x.csv", rows, sep=sep, encoding=encoding, header=header)
    info, df = read_all(path)
    assert info.delimiter == sep
    assert info.encoding == ("utf-8-sig" if encoding == "utf-8-sig" else encoding)
    assert df["kampung_kb_id"].tolist() == ["1001", "1002"]
    assert df["_row"].tolist() == [2, 3]  # the line numbers a person sees
    assert df["nama_kampung"].tolist() == ["Kampung KB Dahlia – Ma’ruf", "Melati"]  # decoded right
    assert info.unknown_columns == ["catatan"]


def test_gzip_csv_with_title_line(tmp_path):
    body = "Ekspor portal Kampung KB\n" + ",".join(HEADER) + "\n" + ",".join(csv_row(7)) + "\n"
    path = tmp_path / "x.csv.gz"
    path.write_bytes(gzip.compress(body.encode()))
    info, df = read_all(path)
    assert info.header_row == 2 and df["_row"].tolist() == [3] and df["kampung_kb_id"].tolist() == ["7"]


def test_xlsx_title_rows_merged_cells_text_numbers_and_excel_dates(tmp_path):
    path = write_xlsx(tmp_path / "lap.xlsx", 1001, text_numbers=True)
    info, df = read_all(path)
    assert info.header_row == 5
    row = df.iloc[0]
    assert row["_row"] == 6
    assert row["kode_desa"] == "1901012007"  # a number cell, without the '.0'
    assert row["tanggal_lapor"] == "2024-02-02"  # an Excel date cell
    assert row["jml_pus"] == "9"  # a number stored as text


def test_xlsx_merged_header_cell_spans_columns(tmp_path):
    import xlsxwriter

    path = tmp_path / "merged.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, HEADER[:-1])
    ws.merge_range(0, len(HEADER) - 1, 0, len(HEADER), HEADER[-1])  # last header merged over two cells
    ws.write_row(1, 0, csv_row(5))
    wb.close()
    _, df = read_all(path)
    assert df.loc[0, HEADER[-1]] == csv_row(5)[-1]


def test_legacy_header_is_mapped_and_reported(tmp_path):
    header = [h.replace("ikut_uppka", "ikut_uppks").replace("non_kb_iat", "non_kb_ingin_anak_kemudian") for h in HEADER]
    path = write_csv(tmp_path / "x.csv", [csv_row(1)], header=header)
    info, df = read_all(path)
    assert "ikut_uppka" in df and "non_kb_iat" in df
    assert any("ikut_uppks" in a for a in info.aliased_headers)


def test_corrupt_xlsx_is_rejected_with_reason(tmp_path):
    path = tmp_path / "rusak.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not a workbook")
    with pytest.raises(RejectedFile, match="cannot open the workbook"):
        read_chunks(path, KKBPK_BULANAN)


def test_missing_required_column_rejects_the_file(tmp_path):
    path = write_csv(tmp_path / "x.csv", [csv_row(1)[:-1]], header=HEADER[:-1])
    with pytest.raises(RejectedFile, match="required column"):
        read_chunks(path, KKBPK_BULANAN)


def test_undecodable_text_is_rejected(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes((";".join(HEADER) + "\n").encode() + b"\x81\x8d\x8f;" + b"1;" * 10 + b"\n")
    with pytest.raises(RejectedFile, match="neither UTF-8 nor Windows-1252"):
        read_chunks(path, KKBPK_BULANAN)
