"""Kampung KB: which desa have one, their profiles, monthly KKBPK reports, activity posts and poktan registers.

A monthly report aggregates the PK families of the area the Kampung KB covers (the whole desa, some dusun or one RW),
then drifts month by month: couples change status, counts move a little, participation varies.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pipelines.synth import params as P
from pipelines.synth.geography import Geography
from pipelines.synth.population import KabProfile, Population
from pipelines.synth.rng import stream

# report columns in the order of the pa_/non_kb_ categories
CATEGORY_COLUMNS = (*P.PA_COLUMNS, *P.NON_KB_COLUMNS)


def choose_kampung_kb(geo: Geography, seed: int) -> pd.DataFrame:
    """Kampung KB in 20-40 % of desa (share varies by kabupaten) and in every kecamatan."""
    rng = stream(seed, "kampung_kb")
    desa = geo.desa
    kab_share = dict(zip(geo.kab["kode_kab"], rng.uniform(0.22, 0.36, len(geo.kab)), strict=True))
    chosen = rng.random(len(desa)) < desa["kode_kab"].map(kab_share).to_numpy()
    # every kecamatan has at least one ("1 kecamatan 1 Kampung KB")
    for idx in desa.groupby("kode_kec").indices.values():
        if not chosen[idx].any():
            chosen[rng.choice(idx)] = True
    # keep the province share inside 20-40 %
    share = chosen.mean()
    if share > 0.40 or share < 0.20:
        target = int(round(len(desa) * min(max(share, 0.20), 0.40)))
        order = rng.permutation(len(desa))
        chosen[:] = False
        firsts = desa.reset_index().groupby("kode_kec")["index"].first().to_numpy()
        chosen[firsts] = True
        for i in order:
            if chosen.sum() >= target:
                break
            chosen[i] = True
    kkb = desa.loc[chosen, ["kode_desa", "nama_desa", "kode_kec", "nama_kec", "kode_kab", "nama_kab"]].copy()
    kkb["desa_index"] = np.flatnonzero(chosen)
    n = len(kkb)
    # ids unique across provinces (the portal's ids are national): the province code leads
    prefix = int(desa["kode_desa"].iloc[0][:2]) * 100_000 if len(desa) else 0
    kkb["kampung_kb_id"] = prefix + np.sort(rng.choice(np.arange(1000, 99999), size=n, replace=False))
    motif = rng.choice(np.array(P.NAMA_MOTIF, dtype=object), n)
    # the first Kampung KB of each kabupaten has a name with a typographic apostrophe, as typed in Word/Excel
    firsts = kkb.reset_index(drop=True).groupby("kode_kab").head(1).index.to_numpy()
    motif[firsts] = rng.choice(np.array([m for m in P.NAMA_MOTIF if not m.isascii()], dtype=object), len(firsts))
    kkb["nama_kampung"] = "Kampung KB " + motif + " " + kkb["nama_desa"].to_numpy()
    kkb["cakupan_wilayah"] = rng.choice(np.array(P.CAKUPAN_WILAYAH, dtype=object), n, p=[0.15, 0.2, 0.65])
    # the RW numbers a Kampung KB covers: Desa all, Dusun the first half, RW one
    kkb["rw_max"] = np.select([kkb["cakupan_wilayah"] == "Desa", kkb["cakupan_wilayah"] == "Dusun"], [99, 4], default=1)
    kkb["rw"] = np.where(kkb["cakupan_wilayah"] == "RW", "001", "")
    start = dt.date(2016, 1, 14).toordinal()
    kkb["tanggal_pencanangan"] = [
        dt.date.fromordinal(int(d)) for d in rng.integers(start, dt.date(2023, 12, 31).toordinal(), n)
    ]
    return kkb.reset_index(drop=True)


def desa_base(pop: Population, kkb: pd.DataFrame) -> pd.DataFrame:
    """Per Kampung KB, the PK aggregates of the families it covers (the month-0 report)."""
    rw_max = np.zeros(pop.f_desa.max() + 1, dtype=np.int64)
    rw_max[kkb["desa_index"].to_numpy()] = kkb["rw_max"].to_numpy()
    covered = pop.f_rw <= rw_max[pop.f_desa]
    fd = pop.f_desa[covered]
    n = len(rw_max)

    def s(values: np.ndarray) -> np.ndarray:
        return np.bincount(fd, weights=values[covered], minlength=n).round().astype(np.int64)

    ones = np.ones(pop.n_families)
    status, metode = pop.f_status, pop.f_metode
    base = {
        "jml_keluarga": s(ones),
        "jml_jiwa": s(pop.f_size.astype(float)),
        "jml_pus": s(pop.f_pus.astype(float)),
        "jml_remaja": s(pop.f_remaja_n.astype(float)),
        "kel_balita": s(pop.f_balita.astype(float)),
        "kel_remaja": s((pop.f_remaja_n > 0).astype(float)),
        "kel_lansia": s(pop.f_lansia.astype(float)),
    }
    for i, col in enumerate(P.PA_COLUMNS):
        base[col] = s(((status == 0) & (metode == i)).astype(float))
    base["non_kb_hamil"] = s((status == 1).astype(float))
    base["non_kb_ias"] = s(((status == 2) | ((status == 0) & (metode >= 7))).astype(float))
    base["non_kb_iat"] = s((status == 3).astype(float))
    base["non_kb_tial"] = s((status == 4).astype(float))
    idx = kkb["desa_index"].to_numpy()
    return pd.DataFrame({k: v[idx] for k, v in base.items()})


def monthly_reports(
    kkb: pd.DataFrame, base: pd.DataFrame, kab: KabProfile, months: list[tuple[int, int]], seed: int
) -> pd.DataFrame:
    """One row per Kampung KB and month it reported: all rules of the portal hold on every row."""
    rng = stream(seed, "laporan")
    K, T = len(kkb), len(months)
    kab_i = pd.Index(kab.kode_kab).get_indexer(kkb["kode_kab"])
    ki = np.repeat(np.arange(K), T)
    ti = np.tile(np.arange(T), K)
    reported = rng.random(K * T) < kab.lapor[kab_i][ki]
    ki, ti = ki[reported], ti[reported]
    R = len(ki)
    b = base.to_numpy()[ki]
    cols = list(base.columns)
    col = {c: b[:, i].astype(np.int64) for i, c in enumerate(cols)}

    def drift(x: np.ndarray, sd: float) -> np.ndarray:
        return np.maximum(0, np.round(x * (1 + rng.normal(0, sd, R)))).astype(np.int64)

    out = {
        "kampung_kb_id": kkb["kampung_kb_id"].to_numpy()[ki],
        "kode_desa": kkb["kode_desa"].to_numpy()[ki],
        "tahun": np.array([m[0] for m in months])[ti],
        "bulan": np.array([m[1] for m in months])[ti],
    }
    out["jml_keluarga"] = drift(col["jml_keluarga"], 0.004)
    out["jml_jiwa"] = np.maximum(drift(col["jml_jiwa"], 0.004), out["jml_keluarga"])
    jml_pus = drift(col["jml_pus"], 0.01)
    # category shares of the covered families, CPR rising ~0.15 points a month, re-drawn each month
    cat = np.stack([col[c] for c in CATEGORY_COLUMNS], axis=1).astype(float) + 0.05
    shares = cat / cat.sum(axis=1, keepdims=True)
    trend = 1 + 0.0025 * ti
    shares[:, :7] *= trend[:, None]
    shares /= shares.sum(axis=1, keepdims=True)
    cats = rng.multinomial(jml_pus, shares)
    for j, c in enumerate(CATEGORY_COLUMNS):
        out[c] = cats[:, j]
    out["jml_pus"] = cats.sum(axis=1)
    out["jml_remaja"] = drift(col["jml_remaja"], 0.01)
    for c in ("kel_balita", "kel_remaja", "kel_lansia"):
        out[c] = np.minimum(drift(col[c], 0.01), out["jml_keluarga"])
    rate = np.clip(kab.ikut_poktan[kab_i][ki] + rng.normal(0, 0.05, R), 0.02, 0.95)
    out["ikut_bkb"] = rng.binomial(out["kel_balita"], rate)
    out["ikut_bkr"] = rng.binomial(out["kel_remaja"], rate * 0.8)
    out["ikut_bkl"] = rng.binomial(out["kel_lansia"], rate * 0.9)
    out["ikut_uppka"] = rng.binomial(out["jml_keluarga"], rate * 0.15)
    out["ikut_pikr"] = rng.binomial(out["jml_remaja"], rate * 0.3)
    out["pengguna_bpjs"] = rng.binomial(out["jml_jiwa"], rng.uniform(0.7, 0.9, R))
    # submitted in the following month: by the 3rd when on time, else days 4-25
    year = out["tahun"] + (out["bulan"] == 12)
    month = out["bulan"] % 12 + 1
    on_time = rng.random(R) < kab.tepat_waktu[kab_i][ki]
    day = np.where(on_time, rng.integers(1, 4, R), rng.integers(4, 26, R))
    out["tanggal_lapor"] = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day})).dt.date.to_numpy()
    df = pd.DataFrame(out)[list(P.LAPORAN_COLUMNS)]
    df.insert(0, "kode_kab", kkb["kode_kab"].to_numpy()[ki])
    df.insert(1, "nama_kampung", kkb["nama_kampung"].to_numpy()[ki])
    return df.reset_index(drop=True)


def redraw_report(row: pd.Series, rng: np.random.Generator) -> pd.Series:
    """A corrected version of a report: PUS re-counted by the Pokja, still balanced and within targets."""
    new = row.copy()
    moved = int(rng.integers(1, 4))
    donor = max(CATEGORY_COLUMNS, key=lambda c: row[c])
    receiver = P.PA_COLUMNS[int(rng.integers(0, 7))]
    if receiver == donor:
        receiver = "non_kb_ias"
    moved = min(moved, int(row[donor]))
    new[donor] = row[donor] - moved
    new[receiver] = row[receiver] + moved
    extra = int(rng.integers(1, 3))
    new["pa_suntik"] += extra
    new["jml_pus"] = row["jml_pus"] + extra
    new["tanggal_lapor"] = row["tanggal_lapor"] + dt.timedelta(days=int(rng.integers(3, 12)))
    return new


def profiles(kkb: pd.DataFrame, geo: Geography, years: list[int], months: list[tuple[int, int]], seed: int):
    """The yearly K/0/KAMPUNGKB card each January plus profile updates in some months (history for the SCD)."""
    rng = stream(seed, "profil")
    lat0, lon0 = P.PROVINCE_CENTROID.get(geo.provinsi, (-2.0, 115.0))
    K = len(kkb)
    rows = []
    state = {
        "pokja_ada": (rng.random(K) < 0.93).astype(int),
        "pokja_terlatih_ada": (rng.random(K) < 0.6).astype(int),
        "plkb_pendamping_ada": (rng.random(K) < 0.8).astype(int),
        "regulasi_ada": (rng.random(K) < 0.7).astype(int),
        "rkm_ada": (rng.random(K) < 0.55).astype(int),
        "sekretariat_ada": (rng.random(K) < 0.75).astype(int),
        "rumah_dataku_ada": (rng.random(K) < 0.5).astype(int),
    }
    poktan = (rng.random((K, 5)) < np.array([0.9, 0.8, 0.75, 0.6, 0.5])).astype(int)
    lat = lat0 + rng.normal(0, 0.4, K)
    lon = lon0 + rng.normal(0, 0.5, K)

    def pick_list(options: tuple[str, ...], k_min: int, k_max: int) -> str:
        k = int(rng.integers(k_min, k_max + 1))
        return ", ".join(sorted(rng.choice(np.array(options, dtype=object), k, replace=False), key=options.index))

    first_months = {y: min(m for yy, m in months if yy == y) for y in years}
    for y in years:
        updates = rng.random(K) < 0.08
        upd_month = rng.integers(first_months[y] + 1, 13, K) if first_months[y] < 12 else np.full(K, 12)
        for i in range(K):
            for version, month in ((0, first_months[y]), (1, int(upd_month[i]))):
                if version == 1 and not updates[i]:
                    continue
                if version == 1:
                    state["rumah_dataku_ada"][i] = 1
                    state["pokja_terlatih_ada"][i] = 1
                pokja = state["pokja_ada"][i]
                rows.append(
                    {
                        "kampung_kb_id": kkb.at[i, "kampung_kb_id"],
                        "nama_kampung": kkb.at[i, "nama_kampung"],
                        "kode_desa": kkb.at[i, "kode_desa"],
                        "rw": kkb.at[i, "rw"],
                        "cakupan_wilayah": kkb.at[i, "cakupan_wilayah"],
                        "tanggal_pencanangan": kkb.at[i, "tanggal_pencanangan"].isoformat(),
                        "latitude": round(float(lat[i]), 6),
                        "longitude": round(float(lon[i]), 6),
                        "tahun": y,
                        "bulan": month,
                        "pokja_ada": pokja,
                        "pokja_sk_ada": pokja * int(rng.random() < 0.85),
                        "pokja_jumlah": pokja * int(rng.integers(5, 25)),
                        "pokja_terlatih_ada": pokja * state["pokja_terlatih_ada"][i],
                        "pokja_jumlah_terlatih": pokja * state["pokja_terlatih_ada"][i] * int(rng.integers(1, 6)),
                        "plkb_pendamping_ada": state["plkb_pendamping_ada"][i],
                        "regulasi_ada": state["regulasi_ada"][i],
                        "regulasi_jenis": int(rng.integers(1, 5)) if state["regulasi_ada"][i] else "",
                        "rkm_ada": state["rkm_ada"][i],
                        "sekretariat_ada": state["sekretariat_ada"][i],
                        "rumah_dataku_ada": state["rumah_dataku_ada"][i],
                        "rumah_dataku_klasifikasi": (
                            P.RUMAH_DATAKU_KLAS[int(rng.integers(0, 3))] if state["rumah_dataku_ada"][i] else ""
                        ),
                        **{f"poktan_{p}": poktan[i, j] for j, p in enumerate(("bkb", "bkr", "bkl", "uppka", "pikr"))},
                        "sumber_dana": pick_list(P.SUMBER_DANA, 1, 4),
                        "penggunaan_data": pick_list(P.PENGGUNAAN_DATA, 0, 4),
                        "mekanisme_operasional": pick_list(P.MEKANISME, 1, 5),
                        "is_active": 1,
                    }
                )
    return pd.DataFrame(rows, columns=list(P.PROFIL_COLUMNS))


def intervensi(kkb: pd.DataFrame, months: list[tuple[int, int]], seed: int) -> list[dict]:
    """Activity posts: about 1.5 a month per Kampung KB, with partner agencies and targets as lists."""
    rng = stream(seed, "intervensi")
    records = []
    next_id = (int(kkb["kode_desa"].iloc[0][:2]) * 10_000_000 if len(kkb) else 0) + 500_000  # national ids
    for y, m in months:
        n_days = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.date(y, m, 1)).days
        counts = rng.poisson(1.5, len(kkb))
        for i in np.flatnonzero(counts):
            for _ in range(int(counts[i])):
                fungsi = P.FUNGSI_KELUARGA[int(rng.integers(0, len(P.FUNGSI_KELUARGA)))]
                judul = P.JUDUL_BY_FUNGSI[fungsi][int(rng.integers(0, len(P.JUDUL_BY_FUNGSI[fungsi])))]
                n_inst = int(rng.integers(1, 5))
                n_sas = int(rng.integers(1, 3))
                records.append(
                    {
                        "intervensi_id": next_id,
                        "kampung_kb_id": int(kkb.at[i, "kampung_kb_id"]),
                        "tanggal": dt.date(y, m, int(rng.integers(1, n_days + 1))).isoformat(),
                        "judul": judul,
                        "tempat": f"Balai Desa {kkb.at[i, 'nama_desa']}",
                        "jenis_post": P.JENIS_POST[int(rng.random() < 0.2)],
                        "fungsi_keluarga": fungsi,
                        "sasaran": sorted(rng.choice(np.array(P.SASARAN, dtype=object), n_sas, replace=False).tolist()),
                        "instansi": sorted(
                            rng.choice(np.array(P.INSTANSI, dtype=object), n_inst, replace=False).tolist()
                        ),
                        "inpres_sasaran": P.INPRES_SASARAN[int(rng.integers(0, 4))],
                    }
                )
                next_id += int(rng.integers(1, 4))
    return records


def poktan_register(kkb: pd.DataFrame, base: pd.DataFrame, months: list[tuple[int, int]], seed: int) -> pd.DataFrame:
    """SIGA poktan register: one row per poktan group and month, groups of the Kampung KB's desa."""
    rng = stream(seed, "poktan")
    targets = {"BKB": "kel_balita", "BKR": "kel_remaja", "BKL": "kel_lansia", "UPPKA": "jml_keluarga",
               "PIK-R": "jml_remaja"}  # fmt: skip
    frames = []
    for j, (jenis, target_col) in enumerate(targets.items()):
        has = rng.random(len(kkb)) < (0.9, 0.8, 0.75, 0.6, 0.5)[j]
        idx = np.flatnonzero(has)
        members = np.maximum(5, (base[target_col].to_numpy()[idx] * rng.uniform(0.1, 0.4, len(idx))).astype(int))
        for t, (y, m) in enumerate(months):
            meet = rng.random(len(idx)) < 0.85
            hadir = np.where(meet, rng.binomial(members, 0.7), 0)
            frames.append(
                pd.DataFrame(
                    {
                        "kode_desa": kkb["kode_desa"].to_numpy()[idx],
                        "jenis_poktan": jenis,
                        "kelompok_id": kkb["kampung_kb_id"].to_numpy()[idx] * 10 + j + 1,
                        "tahun": y,
                        "bulan": m,
                        "jumlah_anggota": members,
                        "jumlah_hadir": hadir,
                        "ada_pertemuan": meet.astype(int),
                        "_t": t,
                    }
                )
            )
    df = pd.concat(frames, ignore_index=True)
    return df.sort_values(["_t", "kode_desa", "jenis_poktan"], kind="stable").drop(columns="_t").reset_index(drop=True)
