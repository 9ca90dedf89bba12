"""A scan of a published DuckDB file for personal data: the last gate before BI tools see a snapshot.

It looks at every table and every column, by name and by value:
- names of columns that hold personal data or a person-level key (NIK, No. KK, names, addresses, birth dates,
  the pseudonymised family / person / child keys);
- values shaped like a NIK or No. KK (16 digits, as text or as a number) or like a pseudonym (64 hex characters,
  what HMAC-SHA256 gives);
- values equal to a known pseudonym, when the caller passes where the pseudonyms are (the landing Parquet).
Visible small counts are disclosure.audit's to find (publish runs both).

A finding names the table, the column and the rule, never the value itself (the scan's own report must be safe).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from pipelines.lib.sql import one, scalar

FORBIDDEN_COLUMN = re.compile(
    # identifiers and person-level keys, as whole names
    r"^(nik|no_kk|nomor_kk|nik_hash|no_kk_hash|nik_anak|nik_anak_hash|id_keluarga|keluarga_id|keluarga_key"
    r"|anggota_key|anggota_keluarga_key|anak_key|balita_key|pengukuran_key)$"
    # personal data, anywhere in a name
    r"|(^|_)(alamat|no_rumah|tanggal_lahir|tgl_lahir|umur_tahun|umur_bulan|nama_anak|nama_ibu|nama_ayah"
    r"|nama_kepala_keluarga|nama_anggota|nama_lengkap)($|_)"
)
SIXTEEN_DIGITS = r"^\d{16}$"
HEX_DIGEST = r"^[0-9a-fA-F]{64}$"
TEXT_TYPES = ("VARCHAR",)
INTEGER_TYPES = ("BIGINT", "HUGEINT", "UBIGINT", "DECIMAL(18,0)", "DECIMAL(38,0)")


@dataclass(frozen=True)
class Finding:
    table: str
    column: str
    rule: str
    rows: int

    def __str__(self) -> str:
        return f"{self.table}.{self.column}: {self.rule} ({self.rows} row(s))"


def scan(
    con: duckdb.DuckDBPyConnection, schema: str = "main", known_pseudonyms: Iterable[tuple[str, str]] = ()
) -> tuple[list[Finding], dict[str, int]]:
    """Scan every table of `schema` in `con`. Returns the findings and what was covered (tables, columns, values).

    known_pseudonyms: (Parquet glob, column) pairs holding the pseudonyms made at ingestion.
    """
    columns = con.execute(
        "select table_name, column_name, data_type from duckdb_columns() "
        "where schema_name = ? and database_name = current_database() order by table_name, column_index",
        [schema],
    ).fetchall()
    findings: list[Finding] = []
    coverage = {"tables": len({t for t, _, _ in columns}), "columns": len(columns), "values": 0}
    for table, column, dtype in columns:
        q = f'"{schema}"."{table}"'
        c = f'"{column}"'
        if FORBIDDEN_COLUMN.search(column.lower()):
            findings.append(Finding(table, column, "column name of personal data or a person-level key", 0))
        if dtype in TEXT_TYPES:
            n16, nhex = one(
                con.execute(
                    f"select count(*) filter (where regexp_matches({c}, '{SIXTEEN_DIGITS}')), "
                    f"count(*) filter (where regexp_matches({c}, '{HEX_DIGEST}')) from {q}"
                )
            )
            if n16:
                findings.append(Finding(table, column, "16-digit value shaped like a NIK / No. KK", n16))
            if nhex:
                findings.append(Finding(table, column, "64-hex value shaped like a pseudonym (HMAC-SHA256)", nhex))
        elif dtype in INTEGER_TYPES:
            n = scalar(con.execute(f"select count(*) from {q} where {c} between 1e15 and 1e16 - 1"))
            if n:
                findings.append(Finding(table, column, "16-digit number shaped like a NIK / No. KK", n))
        coverage["values"] += scalar(con.execute(f"select count({c}) from {q}"))
    text_columns = [(t, c) for t, c, d in columns if d in TEXT_TYPES]
    findings += _known_pseudonyms(con, schema, text_columns, list(known_pseudonyms))
    return findings, coverage


def _known_pseudonyms(con, schema, text_columns, sources: list[tuple[str, str]]) -> list[Finding]:
    """Published text values equal to a pseudonym in the landing zone. The small side (distinct published values)
    is the hash table; the landing Parquet (up to hundreds of millions of pseudonyms) only streams past it."""
    if not sources or not text_columns:
        return []
    published = " union all ".join(
        f'select distinct \'{t}\' as tbl, \'{c}\' as col, "{c}" as v from "{schema}"."{t}" where "{c}" is not null'
        for t, c in text_columns
    )
    con.execute(f"create or replace temp table _published_text as {published}")
    landed = " union all ".join(
        f"select cast({col} as varchar) as v from read_parquet({glob!r}) "
        f"where cast({col} as varchar) in (select v from _published_text)"
        for glob, col in sources
    )
    rows = con.execute(
        f"select tbl, col, count(*) from _published_text where v in (select distinct v from ({landed})) group by all"
    ).fetchall()
    con.execute("drop table _published_text")
    return [Finding(t, c, "value equal to a pseudonym in the landing zone", n) for t, c, n in rows]
