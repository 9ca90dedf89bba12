"""Families and their members, per desa, for one Pendataan Keluarga round: vectorised with NumPy.

Every other source is derived from these people: the monthly reports aggregate the families of a Kampung KB's desa,
the posyandu count its balita, e-PPGBM measures them. Distributions follow DOMAIN.md section 5 and vary by kabupaten.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.synth import params as P
from pipelines.synth.geography import Geography
from pipelines.synth.rng import stream

# household size 1..9 (design; mean about 3.5, close to Indonesia's 3.6)
SIZE_SHARE = np.array([0.10, 0.18, 0.23, 0.23, 0.13, 0.07, 0.03, 0.02, 0.01])
SIZE_SHARE = SIZE_SHARE / SIZE_SHARE.sum()
MEAN_SIZE = float((np.arange(1, 10) * SIZE_SHARE).sum())

# hubungan_kk codes
KEPALA, ISTRI, ANAK, LAINNYA = 1, 2, 3, 4


@dataclass
class KabProfile:
    """Per-kabupaten calibration (drawn once per seed): the levels the pipeline's indicators should find."""

    kode_kab: np.ndarray  # str
    cpr: np.ndarray  # share of PUS using a modern method (ber-KB, excluding MAL/tradisional)
    unmet: np.ndarray  # share of PUS with IAT or TIAL
    hamil: np.ndarray
    stunting: np.ndarray  # share of measured balita below -2 SD
    metode: np.ndarray  # (n_kab, 9) method mix of users
    air_layak: np.ndarray
    jamban_layak: np.ndarray
    rumah_layak: np.ndarray
    lapor: np.ndarray  # probability a Kampung KB reports in a month
    tepat_waktu: np.ndarray  # probability a report arrives by the 3rd
    ikut_poktan: np.ndarray  # poktan participation rate


def kab_profiles(geo: Geography, seed: int) -> KabProfile:
    rng = stream(seed, "kab_profile")
    n = len(geo.kab)
    kota = geo.kab["is_kota"].to_numpy()
    cpr = np.clip(rng.normal(0.58, 0.04, n) + 0.02 * kota, 0.45, 0.70)
    unmet = np.clip(rng.normal(0.13, 0.025, n) - 0.015 * kota, 0.07, 0.20)
    metode = rng.dirichlet(np.array(P.METODE_SHARE) * 200, size=n)
    return KabProfile(
        kode_kab=geo.kab["kode_kab"].to_numpy(),
        cpr=cpr,
        unmet=unmet,
        hamil=rng.uniform(0.05, 0.08, n),
        stunting=np.clip(rng.normal(0.186, 0.03, n) - 0.03 * kota, 0.10, 0.28),
        metode=metode,
        air_layak=rng.uniform(0.82, 0.95, n) + 0.03 * kota,
        jamban_layak=rng.uniform(0.78, 0.93, n) + 0.04 * kota,
        rumah_layak=rng.uniform(0.75, 0.9, n),
        lapor=rng.uniform(0.88, 0.98, n),
        tepat_waktu=rng.uniform(0.55, 0.8, n),
        ikut_poktan=rng.uniform(0.25, 0.55, n),
    )


@dataclass
class Population:
    """Column arrays; families indexed 0..F-1, members 0..M-1 (member -> family by `m_family`)."""

    year: int
    ref_date: dt.date
    # families
    f_desa: np.ndarray  # index into geo.desa
    f_kab: np.ndarray  # index into geo.kab
    f_rw: np.ndarray
    f_rt: np.ndarray
    f_no_rumah: np.ndarray
    f_no_urut: np.ndarray
    f_id: np.ndarray  # int64, 16 digits
    f_no_kk: np.ndarray  # int64, 16 digits
    f_size: np.ndarray
    f_couple: np.ndarray  # bool
    f_usia_istri: np.ndarray  # float, NaN when no wife
    f_anak_hidup: np.ndarray
    f_pus: np.ndarray  # 0/1
    f_status: np.ndarray  # index into P.STATUS_KB
    f_metode: np.ndarray  # index into P.METODE_KB, -1 when none
    f_air: np.ndarray
    f_jamban: np.ndarray
    f_rumah: np.ndarray
    f_desil: np.ndarray
    f_baduta: np.ndarray
    f_balita: np.ndarray
    f_remaja_n: np.ndarray  # members aged 10-24
    f_lansia: np.ndarray  # 0/1, any member aged 60+
    f_krs: np.ndarray
    # members
    m_family: np.ndarray
    m_nomor: np.ndarray
    m_hubungan: np.ndarray
    m_female: np.ndarray  # bool
    m_age_days: np.ndarray  # age in days at ref_date

    @property
    def n_families(self) -> int:
        return len(self.f_id)

    @property
    def n_members(self) -> int:
        return len(self.m_family)


def families_per_desa(geo: Geography, n_families: int, seed: int) -> np.ndarray:
    """How many families live in each desa: lognormal weights, kelurahan larger, at least 20 each."""
    rng = stream(seed, "desa_size")
    w = rng.lognormal(0.0, 0.55, geo.n_desa) * np.where(geo.desa["is_kelurahan"].to_numpy(), 1.8, 1.0)
    w = w / w.sum()
    for _ in range(5):  # no_rumah has 4 digits: no desa above ~8,000 families
        w = np.minimum(w, 8000 / max(n_families, 1))
        w = w / w.sum()
    counts = rng.multinomial(max(n_families - 20 * geo.n_desa, 0), w) + 20
    return counts.astype(np.int64)


def build_population(geo: Geography, kab: KabProfile, n_families: int, year: int, seed: int) -> Population:
    """One PK round: families of every desa with their members, statuses and flags."""
    rng = stream(seed, "population", year)
    per_desa = families_per_desa(geo, n_families, seed)
    f_desa = np.repeat(np.arange(geo.n_desa), per_desa)
    F = len(f_desa)
    kab_index = pd.Index(kab.kode_kab)
    desa_kab = kab_index.get_indexer(geo.desa["kode_kab"].to_numpy())
    f_kab = desa_kab[f_desa]

    # address: rw 1..n_rw per desa, rt 1..6, house numbers in order, a few houses with two families
    n_rw = rng.integers(2, 13, geo.n_desa)
    f_rw = (rng.random(F) * n_rw[f_desa]).astype(np.int64) + 1
    f_rt = rng.integers(1, 7, F)
    second = rng.random(F) < 0.05  # a family sharing the house of the family before it
    second[np.r_[0, np.cumsum(per_desa)[:-1]]] = False  # the first family of a desa opens a house
    house = np.cumsum(~second) - 1  # house counter over the province
    house_first_family = np.flatnonzero(~second)
    f_no_urut = np.arange(F) - house_first_family[house] + 1
    first_house_of_desa = house[np.r_[0, np.cumsum(per_desa)[:-1]]]
    f_no_rumah = house - first_house_of_desa[f_desa] + 1
    desa_digits = geo.desa["desa_digits"].to_numpy()
    if f_no_rumah.max() > 9999 or f_no_urut.max() > 99:
        raise ValueError("a desa has more than 9,999 houses: lower the scale")
    f_id = desa_digits[f_desa] * 1_000_000 + f_no_rumah * 100 + f_no_urut
    kec_digits = geo.desa["kec_digits"].to_numpy()
    # No. KK: kecamatan (6) + the date the card was issued (ddmmyy) + a serial (4)
    ddmmyy = rng.integers(1, 29, F) * 10_000 + rng.integers(1, 13, F) * 100 + rng.integers(5, year % 100 + 1, F)
    f_no_kk = kec_digits[f_desa] * 10**10 + ddmmyy * 10**4 + (np.arange(F) % 9999) + 1

    # household composition
    f_size = rng.choice(np.arange(1, 10), size=F, p=SIZE_SHARE)
    f_couple = (f_size >= 2) & (rng.random(F) < 0.88)
    age_kepala = np.where(f_couple, rng.gamma(5.0, 4.6, F) + 21, rng.gamma(3.0, 12.0, F) + 20).clip(20, 90)
    age_istri = np.where(f_couple, age_kepala - rng.gamma(2.0, 1.8, F), np.nan).clip(16, 88)
    f_lainnya = (f_size >= 4) & (rng.random(F) < 0.12)  # an elderly parent lives with them
    n_children = f_size - 1 - f_couple - f_lainnya
    mother_age = np.where(f_couple, age_istri, age_kepala)

    # members
    M = int(f_size.sum())
    starts = np.r_[0, np.cumsum(f_size)[:-1]]
    m_family = np.repeat(np.arange(F), f_size)
    m_pos = np.arange(M) - np.repeat(starts, f_size)
    fam = m_family
    m_hub = np.full(M, ANAK, dtype=np.int64)
    m_hub[starts] = KEPALA
    m_hub[starts[f_couple] + 1] = ISTRI
    m_hub[(starts + f_size - 1)[f_lainnya]] = LAINNYA
    is_child = m_hub == ANAK
    n_child = int(is_child.sum())
    # children: the eldest born when the mother was 19-30, then spaced 1-6 years (12 % closer than 2 years)
    child_rank = m_pos - 1 - f_couple[fam]
    first_birth = rng.uniform(19, 30, F)
    u_gap = rng.random(n_child)
    gap = np.where(u_gap < 0.12, 0.9 + u_gap / 0.12, 2.0 + 4.0 * (u_gap - 0.12) / 0.88)
    spacing = np.zeros(M)
    spacing[is_child] = gap
    spacing[child_rank <= 0] = 0.0
    spacing_cum = np.cumsum(spacing)
    spacing_cum -= np.repeat(spacing_cum[starts], f_size)
    age_years = mother_age[fam] - first_birth[fam] - spacing_cum
    late = is_child & (age_years < 0)
    age_years[late] = rng.uniform(0, 4.99, int(late.sum()))
    age_years[starts] = age_kepala
    age_years[starts[f_couple] + 1] = age_istri[f_couple]
    lainnya = m_hub == LAINNYA
    age_years[lainnya] = rng.uniform(62, 88, int(lainnya.sum()))
    m_age_days = (age_years * 365.25).astype(np.int64)
    m_female = rng.random(M) < 0.5
    m_female[starts[f_couple] + 1] = True
    m_female[starts] = ~f_couple & (rng.random(F) < 0.6)

    age_y = age_years
    f_baduta = np.logical_or.reduceat(is_child & (age_y < 2), starts)
    f_balita = np.logical_or.reduceat(is_child & (age_y < 5), starts)
    f_remaja_n = np.add.reduceat(((age_y >= 10) & (age_y < 25)).astype(np.int64), starts)
    f_lansia = np.logical_or.reduceat(age_y >= 60, starts)
    gaps = np.where(is_child & (child_rank > 0), spacing, 99.0)
    min_gap = np.minimum.reduceat(gaps, starts)

    # PUS and contraception
    usia_istri = np.floor(age_istri)
    f_pus = (f_couple & (usia_istri >= 15) & (usia_istri <= 49)).astype(np.int64)
    # modern users are cpr; MAL/tradisional users (share of non-modern) go to IAS on the report
    p_trad = 0.02
    p_ias = np.clip(1 - kab.cpr - kab.unmet - kab.hamil - p_trad, 0.02, None)
    probs = np.stack([kab.cpr + p_trad, kab.hamil, p_ias, kab.unmet * 0.55, kab.unmet * 0.45], axis=1)
    status_cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    modern_cdf = np.cumsum(kab.metode[:, :7] / kab.metode[:, :7].sum(axis=1, keepdims=True), axis=1)
    u, u2 = rng.random(F), rng.random(F)
    status = np.empty(F, dtype=np.int64)
    modern = np.empty(F, dtype=np.int64)
    bounds = np.searchsorted(f_kab, np.arange(len(kab.kode_kab) + 1))  # families are ordered by kabupaten
    for k in range(len(kab.kode_kab)):
        sl = slice(bounds[k], bounds[k + 1])
        status[sl] = np.searchsorted(status_cdf[k], u[sl], side="right").clip(0, 4)
        modern[sl] = np.searchsorted(modern_cdf[k], u2[sl], side="right").clip(0, 6)
    status = np.where(f_pus == 1, status, 5)  # 5 = bukan PUS
    # methods for ber-KB: modern by the kabupaten mix; a share p_trad/(cpr+p_trad) MAL or Tradisional
    cpr = kab.cpr[f_kab]
    trad = rng.random(F) < p_trad / (cpr + p_trad)
    metode = np.where(trad, np.where(rng.random(F) < 0.4, 7, 8), modern)
    metode = np.where(status == 0, metode, -1)

    f_anak_hidup = n_children + np.where(mother_age > 40, rng.poisson(0.8, F), 0)
    f_air = (rng.random(F) < kab.air_layak[f_kab]).astype(np.int64)
    f_jamban = (rng.random(F) < kab.jamban_layak[f_kab]).astype(np.int64)
    f_rumah = (rng.random(F) < kab.rumah_layak[f_kab]).astype(np.int64)
    f_desil = np.clip(rng.normal(5.5 - 2 * (1 - f_rumah), 2.5, F).round(), 1, 10).astype(np.int64)
    # KRS (DOMAIN 3.3): a target family (PUS, pregnant PUS, baduta or balita) with at least one risk factor
    target = (f_pus == 1) | f_baduta | f_balita
    # "4 Terlalu" judged where it matters: a mother of a baduta/balita or a pregnant wife
    mother = f_couple & (f_baduta | f_balita | (status == 1))
    empat_terlalu = mother & ((usia_istri < 20) | (usia_istri > 35) | (f_anak_hidup > 3) | (min_gap < 2))
    f_krs = (target & ((f_air == 0) | (f_jamban == 0) | empat_terlalu)).astype(np.int64)

    return Population(
        year=year,
        ref_date=dt.date(year, 7, 1),
        f_desa=f_desa,
        f_kab=f_kab,
        f_rw=f_rw,
        f_rt=f_rt,
        f_no_rumah=f_no_rumah,
        f_no_urut=f_no_urut,
        f_id=f_id,
        f_no_kk=f_no_kk,
        f_size=f_size,
        f_couple=f_couple,
        f_usia_istri=np.where(f_couple, usia_istri, np.nan),
        f_anak_hidup=f_anak_hidup,
        f_pus=f_pus,
        f_status=status,
        f_metode=metode,
        f_air=f_air,
        f_jamban=f_jamban,
        f_rumah=f_rumah,
        f_desil=f_desil,
        f_baduta=f_baduta.astype(np.int64),
        f_balita=f_balita.astype(np.int64),
        f_remaja_n=f_remaja_n,
        f_lansia=f_lansia.astype(np.int64),
        f_krs=f_krs,
        m_family=m_family,
        m_nomor=m_pos + 1,
        m_hubungan=m_hub,
        m_female=m_female,
        m_age_days=m_age_days,
    )


def n_families_for(provinsi: str, scale: float) -> int:
    people_k = P.PROVINCE_POPULATION_K.get(provinsi)
    people = people_k * 1000 if people_k else None
    return max(1, int(round((people or 0) * scale / MEAN_SIZE)))
