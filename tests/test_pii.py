"""Pseudonyms computed by DuckDB equal Python's hmac (RFC 2104) for any key length and any text."""

import hashlib
import hmac
import random

import pandas as pd
import pytest

from pipelines.lib.pii import pseudonymise


@pytest.mark.parametrize("key", [b"k", b"x" * 64, b"long-key-" * 20, bytes(range(256))[:80]])
def test_duckdb_hmac_equals_python_hmac(key):
    rng = random.Random(3)
    alphabet = "0123456789abcXYZ éü٣中\u00a0'\";,"
    values = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(500)]
    values += ["1901010101240001", " 1901010101240001 ", "", "   ", None]
    got = pseudonymise(pd.Series(values, index=range(100, 100 + len(values))), key)
    expected = [
        hmac.new(key, v.strip().encode(), hashlib.sha256).hexdigest() if v is not None and v.strip() else None
        for v in values
    ]
    assert got.index.tolist() == list(range(100, 100 + len(values)))
    assert [None if pd.isna(x) else x for x in got.tolist()] == expected


def test_data_docs_never_print_a_personal_value(folders):
    """Malformed NIKs and implausible birth dates are quarantined; the batch's Data Docs (Great Expectations validates
    the rows as delivered, before pseudonymisation) show the rule and the counts, never the values; an ordinary
    column's unexpected values are still shown."""
    import re

    from pipelines.lib.entities import ENTITIES
    from pipelines.lib.ingest import ingest_entity
    from tests.conftest import TEST_KEY, TODAY

    header = "id_keluarga,nomor_anggota,nik,nama,jenis_kelamin,tanggal_lahir,hubungan_kk"
    rows = [
        "1901012007000101,1,190101150395001,Siti,2,1995-03-15,2",  # NIK of 15 digits
        "1901012007000101,2,1.90101E+15,Ahmad,1,1990-06-30,1",  # NIK mangled by Excel
        "1901012007000101,3,1901011503950009,Budi,1,2031-07-04,3",  # born in the future
        "1901012007000101,4,1901011503950010,Ani,9,2010-01-01,3",  # jenis_kelamin 9: not personal
    ]
    path = folders.raw_dir / "bkkbn/pk_anggota/a.csv"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join([header, *rows]) + "\n")
    report = ingest_entity(ENTITIES["pk_anggota"], folders, TEST_KEY, today=TODAY)
    assert report.rows_quarantined == 4 and report.data_docs is not None
    pages = "".join(p.read_text() for p in report.data_docs.parent.glob("*.html"))
    for value in ("190101150395001", "1.90101E+15", "1901011503950009", "1901012007000101", "2031-07-04", "2031"):
        assert value not in pages, value
    assert "nik" in pages and "jenis_kelamin" in pages  # the rules are there
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", pages))
    assert "Unexpected Value Count 9.0 1" in text  # an ordinary column's unexpected value is still shown
