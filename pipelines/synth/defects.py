"""Known defects, injected into chosen rows. Each kind lists the portal rules it breaks, so the ground truth can say
how many rows each rule of the pipeline should quarantine.

Rows are chosen disjointly (one defect per row), so counts per kind are exact.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pipelines.synth.geography import bps_style_code, unknown_desa_code

# kind -> rules of the pipeline's suites a row with this defect fails
LAPORAN_DEFECTS: dict[str, tuple[str, ...]] = {
    "pus_balance": ("pus_balance",),
    "poktan_over_target": ("poktan_over_target",),
    "bpjs_over_population": ("bpjs_over_population",),
    "negative_count": ("negative_count",),
    "future_date": ("future_date",),
    "unknown_wilayah": ("unknown_wilayah",),
    "bps_code": ("bps_code", "unknown_wilayah"),
}
PK_DEFECTS: dict[str, tuple[str, ...]] = {
    "nik_excel": ("nik_format",),
    "unknown_wilayah": ("unknown_wilayah",),
    "bps_code": ("bps_code", "unknown_wilayah"),
    "invalid_code": ("invalid_code",),
}

# the other sources: defect kind -> the rule of the pipeline's suite it breaks (same name when not listed)
OTHER_DEFECTS: dict[str, tuple[str, ...]] = {
    "nik_excel": ("nik_format",),
    "skdn_order": ("skdn_chain",),
    "out_of_range": ("implausible_measurement",),
    "hadir_over_anggota": ("attendance_over_members",),
}


def how_many(n_rows: int, rate: float, n_kinds: int) -> int:
    """Rows to damage: the rate, rounded, with every kind at least once (none at rate 0)."""
    if rate <= 0 or n_rows == 0:
        return 0
    return int(min(n_rows, max(n_kinds, round(n_rows * rate))))


def assign_kinds(rows: np.ndarray, kinds: list[str], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Spread the chosen rows over the kinds round-robin (after a shuffle)."""
    rows = rng.permutation(rows)
    return {k: np.sort(rows[i :: len(kinds)]) for i, k in enumerate(kinds)}


def excel_mangled(number: int) -> str:
    """What Excel shows for a 16-digit number in a General cell: '1.90101E+15'."""
    mantissa, exp = f"{number:.5E}".split("E")
    return f"{mantissa.rstrip('0').rstrip('.')}E+{int(exp)}"


def ten_years_later(d: dt.date) -> dt.date:
    return d.replace(year=d.year + 10, day=min(d.day, 28))


def damage_laporan(df: pd.DataFrame, rows: dict[str, np.ndarray], kec_of: pd.Series, valid: frozenset[str], rng):
    """Apply each kind to its rows (in place, df has object-capable columns)."""
    for kind, idx in rows.items():
        for i in idx:
            r = df.loc[i]
            bump = int(rng.integers(1, 4))
            if kind == "pus_balance":
                df.at[i, "jml_pus"] = r["jml_pus"] + bump
            elif kind == "poktan_over_target":
                df.at[i, "ikut_bkb"] = r["kel_balita"] + bump
            elif kind == "bpjs_over_population":
                df.at[i, "pengguna_bpjs"] = r["jml_jiwa"] + bump
            elif kind == "negative_count":
                df.at[i, "pa_suntik"] = r["pa_suntik"] + r["pa_kondom"] + bump  # the balance still holds
                df.at[i, "pa_kondom"] = -bump
            elif kind == "future_date":
                df.at[i, "tanggal_lapor"] = ten_years_later(r["tanggal_lapor"])
            elif kind == "unknown_wilayah":
                df.at[i, "kode_desa"] = unknown_desa_code(kec_of[r["kode_desa"]], valid)
            elif kind == "bps_code":
                df.at[i, "kode_desa"] = bps_style_code(kec_of[r["kode_desa"]], int(rng.integers(1, 30)))
            else:  # pragma: no cover - a kind without an implementation is a programming error
                raise ValueError(kind)
