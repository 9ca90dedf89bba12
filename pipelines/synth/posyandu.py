"""Posyandu: the master list (3-8 per desa), monthly SKDN recaps and e-PPGBM child measurements.

Balita are the PK members under five; each is served by one posyandu of their desa. SKDN counts them every month;
e-PPGBM measures every child in the weighing months (February, August) and about 5 % of them in other months.
Heights are drawn at a chosen height-for-age z-score from the WHO 2006 length/height-for-age LMS table by month
(the reference data the warehouse uses too: dbt_project/seeds/who_lhfa_lms.csv), at the completed months of age at
the measurement date, with z kept away from the -2 and -3 cut-offs so that rounding the height to 0.1 cm cannot flip a
category and any correct z-score computation classifies them as the generator did.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.synth import params as P
from pipelines.synth.geography import Geography
from pipelines.synth.population import ANAK, KabProfile, Population
from pipelines.synth.rng import stream

# WHO 2006 length/height-for-age LMS by completed month 0-60, boys (L) and girls (P): length (recumbent) below
# 24 months, height (standing) from 24. Shared reference data with the dbt seed; the z-score computation is not shared.
_WHO_LHFA_CSV = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "who_lhfa_lms.csv"


def _who_lhfa() -> dict[str, np.ndarray]:
    """{"L": array[61, 3], "P": array[61, 3]}: (l, m, s) indexed by completed month 0-60."""
    t = pd.read_csv(_WHO_LHFA_CSV, dtype={"jenis_kelamin": str})
    out = {}
    for sex in ("L", "P"):
        f = t[t["jenis_kelamin"] == sex].sort_values("umur_bulan")
        assert f["umur_bulan"].tolist() == list(range(61)), f"{_WHO_LHFA_CSV}: months 0-60 expected for {sex}"
        out[sex] = f[["l", "m", "s"]].to_numpy(dtype="float64")
    return out


def _completed_months(birth: pd.Series, at: pd.DatetimeIndex) -> np.ndarray:
    """Completed months of age: (year diff) * 12 + month diff - 1 when the day of `at` is before the day of birth."""
    b = pd.DatetimeIndex(birth)
    return np.asarray((at.year - b.year) * 12 + (at.month - b.month) - (at.day < b.day).astype(np.int64))


def master(geo: Geography, years: list[int], seed: int) -> pd.DataFrame:
    rng = stream(seed, "posyandu_master")
    per_desa = rng.integers(3, 9, geo.n_desa)
    d = np.repeat(np.arange(geo.n_desa), per_desa)
    serial = np.concatenate([np.arange(1, k + 1) for k in per_desa])
    desa = geo.desa
    kode = desa["desa_digits"].to_numpy()[d] * 1000 + serial
    base = pd.DataFrame(
        {
            "kode_posyandu": kode.astype(str),
            "nama_posyandu": "Posyandu "
            + rng.choice(np.array(P.NAMA_MOTIF, dtype=object), len(d))
            + " "
            + serial.astype(str),
            "kode_desa": desa["kode_desa"].to_numpy()[d],
            "kode_puskesmas": (desa["kec_digits"].to_numpy()[d] * 100 + 1).astype(str),
            "rw": np.char.zfill(serial.astype(str), 3),
            "strata": rng.choice(np.array(P.STRATA, dtype=object), len(d), p=P.STRATA_SHARE),
            "jumlah_kader": rng.integers(3, 11, len(d)),
            "_desa": d,
        }
    )
    frames = []
    for y in years:
        f = base.copy()
        f.insert(len(f.columns) - 1, "tahun", y)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def assign_children(pop: Population, posy: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Each child under six at the PK reference date, with their posyandu and family."""
    rng = stream(seed, "children")
    first_year = posy[posy["tahun"] == posy["tahun"].min()]
    kid = np.flatnonzero((pop.m_hubungan == ANAK) & (pop.m_age_days < 6 * 365))
    fam = pop.m_family[kid]
    desa = pop.f_desa[fam]
    counts = np.bincount(first_year["_desa"].to_numpy(), minlength=desa.max() + 1)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    pick = starts[desa] + (rng.random(len(kid)) * counts[desa]).astype(np.int64)
    return pd.DataFrame(
        {
            "member": kid,
            "family": fam,
            "desa": desa,
            "kab": pop.f_kab[fam],
            "kode_posyandu": first_year["kode_posyandu"].to_numpy()[pick],
            "birth": pd.Timestamp(pop.ref_date) - pd.to_timedelta(pop.m_age_days[kid], unit="D"),
            "female": pop.m_female[kid],
            "stunted_z": rng.random(len(kid)),  # quantile used to draw z, fixed per child
            "z_noise": rng.normal(0, 0.25, len(kid)),
        }
    )


def _z_score(kids: pd.DataFrame, kab: KabProfile) -> np.ndarray:
    """Height-for-age z per child, away from the cut-offs: sangat pendek < -3.1, pendek in (-2.9, -2.1)."""
    share = kab.stunting[kids["kab"].to_numpy()]
    q = kids["stunted_z"].to_numpy()
    severe = q < share * 0.3
    moderate = (q >= share * 0.3) & (q < share)
    normal_z = -1.9 + (q - share) / (1 - share) * 4.0  # uniform on (-1.9, 2.1)
    severe_z = -3.1 - q / np.maximum(share * 0.3, 1e-9)  # (-4.1, -3.1]
    moderate_z = -2.9 + (q - share * 0.3) / np.maximum(share * 0.7, 1e-9) * 0.8  # (-2.9, -2.1)
    return np.where(severe, severe_z, np.where(moderate, moderate_z, normal_z))


def measurements(kids: pd.DataFrame, kab: KabProfile, months: list[tuple[int, int]], seed: int) -> pd.DataFrame:
    rng = stream(seed, "eppgbm")
    z = _z_score(kids, kab)
    lms = _who_lhfa()
    frames = []
    for y, m in months:
        date_ukur = pd.Timestamp(dt.date(y, m, 1)) + pd.to_timedelta(rng.integers(0, 27, len(kids)), unit="D")
        age_days = (date_ukur - kids["birth"]).dt.days.to_numpy()
        age_m = age_days / 30.4375
        umur_bulan = _completed_months(kids["birth"], pd.DatetimeIndex(date_ukur))
        in_age = (age_days >= 0) & (age_days < 1810)  # under 59.5 months: 0-59 completed calendar months
        measured = in_age & ((m in P.BULAN_TIMBANG) | (rng.random(len(kids)) < 0.05))
        if not measured.any():
            continue
        k = kids[measured]
        am = age_m[measured]
        female = k["female"].to_numpy()
        um = np.clip(umur_bulan[measured], 0, 60)
        ref = np.where(female[:, None], lms["P"][um], lms["L"][um])  # (l, m, s) per measurement
        ll, mm, ss = ref[:, 0], ref[:, 1], ref[:, 2]
        zz = z[measured]
        # LMS inverse: X = M (1 + L S z)^(1/L); M exp(S z) when L = 0 (the WHO length/height tables all have L = 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            box_cox = mm * np.power(1 + ll * ss * zz, 1 / np.where(ll == 0, 1, ll))
        tinggi = np.where(ll == 0, mm * np.exp(ss * zz), box_cox)
        berat = np.clip(3.3 + am * 0.22 - np.maximum(am - 12, 0) * 0.08 + rng.normal(0, 0.8, len(k)), 1.8, 30)
        frames.append(
            pd.DataFrame(
                {
                    "member": k["member"].to_numpy(),
                    "family": k["family"].to_numpy(),
                    "kab": k["kab"].to_numpy(),
                    "kode_posyandu": k["kode_posyandu"].to_numpy(),
                    "tanggal_lahir": k["birth"].dt.date.to_numpy(),
                    "jenis_kelamin": np.where(female, "P", "L"),
                    "tanggal_ukur": date_ukur[measured].date,
                    "berat_kg": berat.round(1),
                    "tinggi_cm": tinggi.round(1),
                    "cara_ukur": np.where(um < 24, "terlentang", "berdiri"),
                    "tahun": y,
                    "bulan": m,
                    "z": zz,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def skdn(
    kids: pd.DataFrame, posy: pd.DataFrame, kab: KabProfile, geo: Geography, months: list[tuple[int, int]], seed: int
) -> pd.DataFrame:
    """Monthly SKDN per posyandu: S from the children it serves; K, D, N, BGM and TB counts nested below."""
    rng = stream(seed, "skdn")
    first_year = posy[posy["tahun"] == posy["tahun"].min()].reset_index(drop=True)
    kab_of_posy = pd.Index(kab.kode_kab).get_indexer(geo.desa["kode_kab"].to_numpy()[first_year["_desa"].to_numpy()])
    frames = []
    for y, m in months:
        mid = pd.Timestamp(dt.date(y, m, 15))
        age_m = (mid - kids["birth"]).dt.days.to_numpy() / 30.4375
        balita = (age_m >= 0) & (age_m < 60)
        s = (
            kids.loc[balita, "kode_posyandu"].value_counts().reindex(first_year["kode_posyandu"], fill_value=0)
        ).to_numpy()
        n = len(s)
        k = rng.binomial(s, 0.9)
        d = rng.binomial(k, rng.uniform(0.65, 0.9, n))
        nn = rng.binomial(d, 0.8)
        bgm = rng.binomial(d, 0.02)
        tb = d if m in P.BULAN_TIMBANG else rng.binomial(d, 0.3)
        stunted = rng.binomial(tb, kab.stunting[kab_of_posy])
        sangat = rng.binomial(stunted, 0.3)
        bumil = rng.poisson(3, n)
        frames.append(
            pd.DataFrame(
                {
                    "kode_posyandu": first_year["kode_posyandu"].to_numpy(),
                    "tahun": y,
                    "bulan": m,
                    "hari_buka": np.where(rng.random(n) < 0.97, 1, 2),
                    "s": s,
                    "k": k,
                    "d": d,
                    "n": nn,
                    "bgm": bgm,
                    "balita_diukur_tb": tb,
                    "pendek": stunted - sangat,
                    "sangat_pendek": sangat,
                    "bumil_datang": bumil,
                    "bumil_kek": rng.binomial(bumil, 0.12),
                    "kode_kab": geo.desa["kode_kab"].to_numpy()[first_year["_desa"].to_numpy()],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
