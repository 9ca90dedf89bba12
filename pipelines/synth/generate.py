"""`synthesize()`: every source of DOMAIN.md section 3, in its delivered form, plus `ground_truth.json`.

The ground truth is computed here from what was generated (never by pipeline code), so comparing the warehouse with
it can catch a wrong model: rows per entity and defect kind, rows each rule should quarantine, duplicate and
rejected files, superseded reports, and the true indicators per kabupaten and month.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from pipelines.synth import defects as D
from pipelines.synth import kampung, posyandu
from pipelines.synth import params as P
from pipelines.synth.geography import Geography, bps_style_code, load_geography, unknown_desa_code
from pipelines.synth.population import (
    MEAN_SIZE,
    Population,
    build_population,
    kab_profiles,
    n_families_for,
)
from pipelines.synth.rng import stream
from pipelines.synth.writers import delivered, write_gzip_csv, write_jsonl, write_text_csv, write_workbook

GENERATOR_VERSION = "3"
FOLDERS = {
    "kkbpk_bulanan": "kampung_kb/laporan_bulanan",
    "profil_kampung_kb": "kampung_kb/profil",
    "intervensi": "kampung_kb/intervensi",
    "posyandu": "posyandu/master",
    "skdn": "posyandu/skdn",
    "eppgbm": "posyandu/eppgbm",
    "pk_keluarga": "bkkbn/pk_keluarga",
    "pk_anggota": "bkkbn/pk_anggota",
    "poktan": "bkkbn/poktan",
}


class Truth:
    """Accumulates per-entity counts while files are written."""

    def __init__(self) -> None:
        self.entities: dict[str, dict] = {}

    def entity(self, name: str) -> dict:
        return self.entities.setdefault(
            name,
            {
                "folder": FOLDERS[name],
                "files_written": 0,
                "rows_written": 0,
                "defects": {},
                "rules_expected": {},
                "rows_quarantined_expected": 0,
                "files_duplicate_expected": 0,
                "rows_in_duplicate_files": 0,
                "files_rejected_expected": 0,
                "rows_in_rejected_files": 0,
                "rows_superseded_expected": 0,
                "rows_skipped_expected": 0,
                "files_with_legacy_header": 0,
            },
        )

    def file(self, name: str, rows: int) -> None:
        e = self.entity(name)
        e["files_written"] += 1
        e["rows_written"] += rows

    def defects(self, name: str, rows: dict[str, np.ndarray], rules: dict[str, tuple[str, ...]]) -> None:
        e = self.entity(name)
        for kind, idx in rows.items():
            e["defects"][kind] = e["defects"].get(kind, 0) + len(idx)
            for rule in rules.get(kind, (kind,)):
                e["rules_expected"][rule] = e["rules_expected"].get(rule, 0) + len(idx)
            e["rows_quarantined_expected"] += len(idx)

    def finish(self) -> dict:
        for e in self.entities.values():
            e["rows_valid_expected"] = (
                e["rows_written"]
                - e["rows_quarantined_expected"]
                - e["rows_in_duplicate_files"]
                - e["rows_in_rejected_files"]
                - e["rows_skipped_expected"]
            )
            e["defects"] = dict(sorted(e["defects"].items()))
            e["rules_expected"] = dict(sorted(e["rules_expected"].items()))
        return dict(sorted(self.entities.items()))


def _kec_of(geo: Geography) -> pd.Series:
    return pd.Series(geo.desa["kode_kec"].to_numpy(), index=geo.desa["kode_desa"].to_numpy())


# ---------------------------------------------------------------- monthly reports


def _xlsx_kabs(geo: Geography) -> set[str]:
    """Two kabupaten whose Pokja send workbooks (the first and the last kabupaten); the rest use the portal."""
    kab = geo.kab[~geo.kab["is_kota"]]["kode_kab"].tolist() or geo.kab["kode_kab"].tolist()
    return {kab[0], kab[-1]}


# How the monthly reports arrive (issue 21: DOMAIN.md 3.4 at realistic rates). A Pokja workbook usually carries no
# submission date; old offices send .xls, some LibreOffice .ods; many printed forms end in a signature block, write
# nil as "-" and keep their example row. Portal exports resaved in Indonesian Excel (Windows-1252) write day-first
# dates, thousands with dots, and a totals row.
WORKBOOK_WITH_DATE = 0.35
WORKBOOK_FORMATS = (("xlsx", 0.85), ("xls", 0.10), ("ods", 0.05))
WORKBOOK_SIGNATURE = 0.5
WORKBOOK_NIL_DASH = 0.25
WORKBOOK_EXAMPLE = 0.08
COUNTS = [c for c in P.LAPORAN_COLUMNS[4:] if c != "tanggal_lapor"]


def _thousands(v: int) -> str:
    """1234567 -> '1.234.567', as Indonesian Excel shows a number."""
    return f"{v:,}".replace(",", ".")


def _ddmmyyyy_evidence(dates: list[dt.date]) -> bool:
    """Does any day-first date of a file have a day above 12 (so its order can be told)?"""
    return any(d.day > 12 for d in dates)


def write_laporan(
    out: Path, geo: Geography, reports: pd.DataFrame, rate: float, seed: int, truth: Truth
) -> pd.DataFrame:
    """Write the monthly reports; return the reports the warehouse should count (valid, latest version, with the
    submission date the pipeline will know: the report's own, or its file's arrival where the report has none or
    one whose day/month order its file cannot tell). The truth gets one record per row written."""
    rng = stream(seed, "laporan_defects")
    v_rng = stream(seed, "laporan_variants")  # its own stream: the variants do not move the defects' draws
    name = "kkbpk_bulanan"
    e = truth.entity(name)
    expected: list[dict] = []  # per row written: file, sheet, row, outcome (+ date and its source when landed)
    folder = out / FOLDERS[name]
    df = reports.copy().astype({c: object for c in P.LAPORAN_COLUMNS if c not in ("kampung_kb_id",)})
    xlsx = df["kode_kab"].isin(_xlsx_kabs(geo)).to_numpy()
    R = len(df)
    order = rng.permutation(R)
    n_def = D.how_many(R, rate, len(D.LAPORAN_DEFECTS))
    damaged = D.assign_kinds(order[:n_def], list(D.LAPORAN_DEFECTS), rng)
    rules_of = {int(i): list(D.LAPORAN_DEFECTS[k]) for k, idx in damaged.items() for i in idx}
    rest = order[n_def:]
    n_corr = 0 if rate <= 0 else max(2, round(R * rate / 4))
    corr_x = [i for i in rest if xlsx[i]][: max(1, n_corr // 3)] if xlsx.any() and n_corr else []
    corr_c = [i for i in rest if not xlsx[i]][: n_corr - len(corr_x)] if n_corr else []
    corrected = sorted(corr_x + corr_c)
    used = set(corrected) | set(order[:n_def].tolist())
    free_x = [i for i in rest if xlsx[i] and i not in used]
    lost = free_x[0] if rate > 0 and free_x else None  # the one unreadable workbook
    copy_x = free_x[1] if rate > 0 and len(free_x) > 1 else None  # a workbook uploaded twice under another name
    clean = df.copy()
    D.damage_laporan(df, damaged, _kec_of(geo), geo.valid_codes, rng)
    truth.defects(name, damaged, D.LAPORAN_DEFECTS)
    corrections = {i: kampung.redraw_report(clean.loc[i], rng) for i in corrected}
    e["defects"]["corrected_resubmission"] = len(corrections)
    submissions: list[dict] = []  # every valid submission: the ranking of DOMAIN.md (latest wins) picks the winners

    def rel(path: Path) -> str:
        return path.relative_to(out).as_posix()

    def landed(path: Path, sheet, row: int, report: pd.Series, when: dt.date, sumber: str) -> None:
        expected.append(
            {"file": rel(path), "sheet": sheet, "row": row, "outcome": "landed",
             "kampung_kb_id": int(report["kampung_kb_id"]), "tanggal_lapor": when.isoformat(),
             "tanggal_lapor_sumber": sumber}
        )  # fmt: skip
        submissions.append({"report": report, "when": when, "file": rel(path), "sheet": sheet or "", "row": row})

    # workbooks: one per Kampung KB and month
    columns = list(P.LAPORAN_COLUMNS)
    legacy_ids = set()
    if rate > 0:
        ids = sorted(df.loc[xlsx, "kampung_kb_id"].unique())
        legacy_ids = set(rng.choice(ids, max(1, round(len(ids) * rate)), replace=False).tolist()) if ids else set()
    style_of = {k: int(rng.integers(0, 4)) for k in sorted(df["kampung_kb_id"].unique())}
    kab_name = dict(zip(geo.kab["kode_kab"], geo.kab["nama_kab"], strict=True))

    def workbook(i: int, row: pd.Series, when: dt.date, suffix: str = "", plain: bool = False) -> tuple[Path, dict]:
        kkb_id = int(row["kampung_kb_id"])
        fmt = (
            "xlsx" if plain else str(v_rng.choice([f for f, _ in WORKBOOK_FORMATS], p=[p for _, p in WORKBOOK_FORMATS]))
        )
        path = (
            folder
            / "xlsx"
            / row["kode_kab"]
            / f"{int(row['tahun'])}-{int(row['bulan']):02d}"
            / f"Laporan_KKB_{kkb_id}_{int(row['tahun'])}{int(row['bulan']):02d}{suffix}.{fmt}"
        )
        as_text = frozenset(c for c in P.LAPORAN_COLUMNS[4:-1] if rng.random() < 0.08)
        legacy = P.LAPORAN_LEGACY if kkb_id in legacy_ids else None
        draw = v_rng.random()
        future = "future_date" in rules_of.get(i, [])  # a future date can only be wrong where there is a date
        with_date = plain or future or draw < WORKBOOK_WITH_DATE
        cols = columns if with_date else [c for c in columns if c != "tanggal_lapor"]
        place = kab_name.get(row["kode_kab"], "Sungailiat").replace("Kab. ", "").replace("Kota ", "")
        layout = write_workbook(
            path, row.to_dict(), cols, style_of[kkb_id], as_text, legacy, fmt=fmt,
            nil_dash=not plain and v_rng.random() < WORKBOOK_NIL_DASH,
            example=not plain and v_rng.random() < WORKBOOK_EXAMPLE,
            signature=(place, P.NAMA_PEREMPUAN[i % len(P.NAMA_PEREMPUAN)])
            if not plain and v_rng.random() < WORKBOOK_SIGNATURE else None,
        )  # fmt: skip
        delivered(path, when)
        if legacy:
            e["files_with_legacy_header"] += 1
        layout["with_date"] = with_date
        return path, layout

    def workbook_rows(path: Path, layout: dict, report: pd.Series, written: pd.Series, i: int | None) -> None:
        truth.file(name, 1 + len(layout["skipped"]))
        for r, why in layout["skipped"].items():
            expected.append(
                {"file": rel(path), "sheet": layout["sheet"], "row": r, "outcome": "skipped", "reason": why}
            )
        e["rows_skipped_expected"] += len(layout["skipped"])
        at = {"file": rel(path), "sheet": layout["sheet"], "row": layout["data_row"]}
        if i is not None and i in rules_of:
            expected.append({**at, "outcome": "quarantined", "rules": rules_of[i]})
            return
        when = written["tanggal_lapor"] if layout["with_date"] else report["tanggal_lapor"]  # mtime: that day
        landed(
            path, layout["sheet"], layout["data_row"], report, when, "laporan" if layout["with_date"] else "waktu_file"
        )

    for i in np.flatnonzero(xlsx):
        row = df.loc[i]
        broken = i == lost
        path, layout = workbook(int(i), row, clean.at[i, "tanggal_lapor"], plain=broken or i == copy_x)
        if broken:  # the upload broke off half-way: not a readable workbook
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 2])
            delivered(path, clean.at[i, "tanggal_lapor"])
            truth.file(name, 1)
            e["files_rejected_expected"] += 1
            e["rows_in_rejected_files"] += 1
            e["defects"]["unreadable_file"] = 1
            expected.append({"file": rel(path), "sheet": None, "row": None, "outcome": "rejected"})
        else:
            workbook_rows(path, layout, clean.loc[i], row, int(i))
        if i == copy_x:
            dup = path.with_name(path.stem + " (1)" + path.suffix)
            shutil.copyfile(path, dup)
            delivered(dup, clean.at[i, "tanggal_lapor"], seconds=3600)
            truth.file(name, 1)
            e["files_duplicate_expected"] += 1
            e["rows_in_duplicate_files"] += 1
            e["defects"]["renamed_copy"] = e["defects"].get("renamed_copy", 0) + 1
            expected.append({"file": rel(dup), "sheet": None, "row": None, "outcome": "duplicate"})
        if i in corrections:
            fix = corrections[i]
            # a correction arrives after the report it corrects, and carries its date
            fix_path, fix_layout = workbook(int(i), fix, fix["tanggal_lapor"], "_revisi", plain=True)
            workbook_rows(fix_path, fix_layout, fix, fix, None)

    # portal CSV exports: one per kabupaten and month, ';'. Two in three UTF-8 (some with a BOM) with the portal's
    # ISO dates; one in three resaved in Indonesian Excel: Windows-1252, day-first dates, thousands with dots, totals
    portal = df.loc[~xlsx].copy()
    portal["_i"] = portal.index
    export_cols = ["kampung_kb_id", "nama_kampung", "kode_desa", "tahun", "bulan", *P.LAPORAN_COLUMNS[4:]]
    groups = list(portal.groupby(["kode_kab", "tahun", "bulan"], sort=True))
    legacy_files = set()
    if rate > 0 and groups:
        legacy_files = set(rng.choice(len(groups), max(1, round(len(groups) * rate)), replace=False).tolist())
    copy_c = int(rng.integers(0, len(groups))) if rate > 0 and groups else None

    def export(rows: pd.DataFrame, path: Path, g: int, legacy: bool, when: dt.date, reports: list) -> None:
        excel = g % 3 == 1
        body = rows[export_cols].copy()
        dates = list(body["tanggal_lapor"])
        body["tanggal_lapor"] = [d.strftime("%d/%m/%Y") if excel else d.isoformat() for d in dates]
        if excel:
            for c in COUNTS:
                body[c] = [_thousands(int(v)) if int(v) >= 1000 else str(int(v)) for v in body[c]]
            totals = {c: "" for c in export_cols} | {"kampung_kb_id": "JUMLAH"}
            totals |= {
                c: _thousands(int(sum(int(v) for v in rows[c]))) for c in ("jml_jiwa", "jml_keluarga", "jml_pus")
            }
            body = pd.concat([body.astype(str), pd.DataFrame([totals])], ignore_index=True)
        header = [P.LAPORAN_LEGACY.get(c, c) for c in export_cols] if legacy else None
        enc = ("utf-8", "cp1252", "utf-8")[g % 3]
        write_text_csv(path, body, sep=";", encoding=enc, bom=(g % 6 == 2), header=header)
        delivered(path, when)
        n = len(rows)
        truth.file(name, n + (1 if excel else 0))  # the totals row is a row written, and skipped
        if excel:
            expected.append(
                {"file": rel(path), "sheet": None, "row": n + 2, "outcome": "skipped", "reason": "totals row"}
            )
            e["rows_skipped_expected"] += 1
        told = not excel or _ddmmyyyy_evidence(dates)  # ISO, or a day above 12 somewhere in the file
        for k, (d, report, i) in enumerate(zip(dates, reports, rows["_i"], strict=True)):
            r = k + 2
            if i in rules_of and report is None:
                expected.append({"file": rel(path), "sheet": None, "row": r, "outcome": "quarantined",
                                 "rules": rules_of[i]})  # fmt: skip
                continue
            # a valid report's date is in the past: in a file whose order cannot be told, a date whose day and month
            # differ (both 12 or less) cannot be read; the pipeline dates it by the file's arrival
            if not told and d.day != d.month:
                landed(path, None, r, report, when, "waktu_file:tanggal_ambigu")  # its mtime: 09:00 WIB that day
            else:
                landed(path, None, r, report, d, "laporan")

    for g, ((kode_kab, tahun, bulan), rows) in enumerate(groups):
        kk = kode_kab.replace(".", "")
        path = folder / "portal" / kode_kab / f"export_laporan_{kk}_{int(tahun)}{int(bulan):02d}.csv"
        legacy = g in legacy_files
        when = max(clean.loc[rows["_i"], "tanggal_lapor"])
        reports = [None if i in rules_of else clean.loc[i] for i in rows["_i"]]
        export(rows, path, g, legacy, when, reports)
        if legacy:
            e["files_with_legacy_header"] += 1
        fixes = [(i, corrections[i]) for i in rows["_i"] if i in corrections]
        if fixes:
            fix_rows = pd.DataFrame([f for _, f in fixes])
            fix_rows["_i"] = [i for i, _ in fixes]
            fix_path = path.with_name(path.stem + "_koreksi.csv")
            # a correction arrives after the export it corrects
            fix_when = max(max(fix_rows["tanggal_lapor"]), when + dt.timedelta(days=1))
            export(fix_rows, fix_path, g, False, fix_when, [f for _, f in fixes])
        if g == copy_c:
            dup = path.with_name(path.stem + " (1).csv")
            shutil.copyfile(path, dup)
            delivered(dup, when, seconds=7200)
            n = len(rows)  # the data rows it copies (a copy is not read: its totals row is nowhere)
            truth.file(name, n)
            e["files_duplicate_expected"] += 1
            e["rows_in_duplicate_files"] += n
            e["defects"]["renamed_copy"] = e["defects"].get("renamed_copy", 0) + 1
            expected.append({"file": rel(dup), "sheet": None, "row": None, "outcome": "duplicate"})
    e["defects"]["legacy_header"] = e["files_with_legacy_header"]
    e["expected_rows"] = expected

    # what the warehouse should count: per Kampung KB and month, the latest submission by DOMAIN.md's rule (the
    # latest submission date, then, on the same date, the file and row that sort last: the pipeline's tie-break)
    ranked = sorted(submissions, key=lambda s: (s["when"], s["file"], s["sheet"], s["row"]), reverse=True)
    winners, seen = [], set()
    for s in ranked:
        key = (int(s["report"]["kampung_kb_id"]), int(s["report"]["tahun"]), int(s["report"]["bulan"]))
        if key not in seen:
            seen.add(key)
            winners.append(s["report"].to_dict() | {"tanggal_lapor": s["when"]})
    e["rows_superseded_expected"] = len(submissions) - len(winners)
    return pd.DataFrame(winners)


PARTISIPASI = {  # poktan participation: participants / target group (DOMAIN.md section 4)
    "bkb": ("ikut_bkb", "kel_balita"),
    "bkr": ("ikut_bkr", "kel_remaja"),
    "bkl": ("ikut_bkl", "kel_lansia"),
    "uppka": ("ikut_uppka", "jml_keluarga"),
    "pikr": ("ikut_pikr", "jml_remaja"),
}


def _pct(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a.astype(float) / b.where(b != 0).astype(float) * 100).astype(float)


def indikator_kabupaten(winners: pd.DataFrame, kkb: pd.DataFrame, posts: list[dict]) -> pd.DataFrame:
    """Indicators per kabupaten and month from what the warehouse should count: ratio of sums (DOMAIN.md section 4).

    CPR, MKJP share, unmet need, the five poktan participations, reporting completeness (reports / active Kampung
    KB) and timeliness (by the 3rd of the next month, judged on the winning submission), and the number of distinct
    partner agencies in the valid activity posts of the kabupaten's Kampung KB that month.
    """
    w = winners.copy()
    counts = [*P.PA_COLUMNS, *P.NON_KB_COLUMNS, "jml_pus", *{c for pair in PARTISIPASI.values() for c in pair}]
    for c in counts:
        w[c] = w[c].astype("int64")
    w["pa_total"] = w[list(P.PA_COLUMNS)].sum(axis=1)
    w["pa_mkjp"] = w[["pa_iud", "pa_mow", "pa_mop", "pa_implan"]].sum(axis=1)
    w["non_kb_unmet"] = w["non_kb_iat"] + w["non_kb_tial"]
    due = [dt.date(y + (m == 12), m % 12 + 1, 3) for y, m in zip(w["tahun"], w["bulan"], strict=True)]
    w["tepat_waktu"] = [d <= limit for d, limit in zip(w["tanggal_lapor"], due, strict=True)]
    extra = {c: (c, "sum") for pair in PARTISIPASI.values() for c in pair}
    g = (
        w.groupby(["kode_kab", "tahun", "bulan"], sort=True)
        .agg(
            n_laporan=("kampung_kb_id", "size"),
            n_tepat_waktu=("tepat_waktu", "sum"),
            jml_pus=("jml_pus", "sum"),
            pa_total=("pa_total", "sum"),
            pa_mkjp=("pa_mkjp", "sum"),
            non_kb_unmet=("non_kb_unmet", "sum"),
            **extra,
        )
        .reset_index()
    )
    g["cpr"] = _pct(g["pa_total"], g["jml_pus"])
    g["mkjp"] = _pct(g["pa_mkjp"], g["pa_total"])
    g["unmet_need"] = _pct(g["non_kb_unmet"], g["jml_pus"])
    for name, (ikut, sasaran) in PARTISIPASI.items():
        g[f"partisipasi_{name}"] = _pct(g[ikut], g[sasaran])
    # completeness: Kampung KB launched by the end of the month
    ends = {
        (y, m): dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)
        for y, m in zip(g["tahun"], g["bulan"], strict=True)
    }
    active = [
        int(((kkb["kode_kab"] == k) & (kkb["tanggal_pencanangan"] <= ends[(y, m)])).sum())
        for k, y, m in zip(g["kode_kab"], g["tahun"], g["bulan"], strict=True)
    ]
    g["n_kampung_kb_aktif"] = active
    g["kelengkapan_laporan"] = _pct(g["n_laporan"], g["n_kampung_kb_aktif"])
    g["ketepatan_waktu"] = _pct(g["n_tepat_waktu"], g["n_laporan"])
    kab_of = dict(zip(kkb["kampung_kb_id"], kkb["kode_kab"], strict=True))
    instansi: dict[tuple, set] = {}
    for post in posts:
        y, m = int(post["tanggal"][:4]), int(post["tanggal"][5:7])
        instansi.setdefault((kab_of[post["kampung_kb_id"]], y, m), set()).update(post["instansi"])
    g["jumlah_instansi"] = [len(instansi.get(k, ())) for k in zip(g["kode_kab"], g["tahun"], g["bulan"], strict=True)]
    g["tahun"] = g["tahun"].astype(int)
    g["bulan"] = g["bulan"].astype(int)
    g["n_tepat_waktu"] = g["n_tepat_waktu"].astype(int)
    return g


def cakupan_kabupaten(geo: Geography, kkb: pd.DataFrame) -> list[dict]:
    """Kampung KB coverage per kabupaten: kecamatan with at least one, desa/kelurahan with one."""
    out = []
    for kode_kab, desa in geo.desa.groupby("kode_kab", sort=True):
        mine = kkb[kkb["kode_kab"] == kode_kab]
        out.append(
            {
                "kode_kab": kode_kab,
                "kecamatan": int(desa["kode_kec"].nunique()),
                "kecamatan_dengan_kampung_kb": int(mine["kode_kec"].nunique()),
                "desa_kelurahan": len(desa),
                "desa_dengan_kampung_kb": len(mine),
            }
        )
    return out


# ---------------------------------------------------------------- PK registers


def _digits_to_text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values, pa.int64()), pa.string())


def pk_keluarga_table(pop: Population, geo: Geography) -> pa.Table:
    desa_digits = geo.desa["desa_digits"].to_numpy()
    status = pc.take(pa.array(P.STATUS_KB), pa.array(pop.f_status))
    metode = pc.take(pa.array(P.METODE_KB), pa.array(pop.f_metode, mask=pop.f_metode < 0))  # null: no method
    usia = pa.array(pop.f_usia_istri, pa.float64(), from_pandas=True).cast(pa.int64())
    return pa.table(
        {
            # 16/10-digit codes never start with 0 (province codes are 11-96): written as plain digits
            "id_keluarga": pa.array(pop.f_id, pa.int64()),
            "no_kk": _digits_to_text(pop.f_no_kk),  # text: some arrive mangled by Excel
            "kode_desa": pa.array(desa_digits[pop.f_desa], pa.int64()),
            "rw": pc.utf8_lpad(_digits_to_text(pop.f_rw), 3, "0"),
            "rt": pa.array(pop.f_rt, pa.int64()),
            "no_rumah": pa.array(pop.f_no_rumah, pa.int64()),
            "no_urut_keluarga": pa.array(pop.f_no_urut, pa.int64()),
            "tahun_pendataan": pa.array(np.full(pop.n_families, pop.year), pa.int64()),
            "jumlah_anggota": pa.array(pop.f_size, pa.int64()),
            "pus": pa.array(pop.f_pus, pa.int64()),
            "usia_istri": usia,
            "jumlah_anak_hidup": pa.array(pop.f_anak_hidup, pa.int64()),
            "status_kb": status,
            "metode_kb": metode,
            "sumber_air_layak": pa.array(pop.f_air, pa.int64()),
            "jamban_layak": pa.array(pop.f_jamban, pa.int64()),
            "rumah_layak": pa.array(pop.f_rumah, pa.int64()),
            "desil": pa.array(pop.f_desil, pa.int64()),
            "punya_baduta": pa.array(pop.f_baduta, pa.int64()),
            "punya_balita": pa.array(pop.f_balita, pa.int64()),
            "pus_hamil": pa.array((pop.f_status == 1).astype(np.int64), pa.int64()),
            "krs": pa.array(pop.f_krs, pa.int64()),
        }
    )


def _replace(table: pa.Table, column: str, rows: np.ndarray, values: list) -> pa.Table:
    """Set `values` at row positions `rows` (vectorised; positions in ascending order of `rows`)."""
    order = np.argsort(rows, kind="stable")
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[rows] = True
    field = table.schema.field(column)
    new = pc.replace_with_mask(
        table[column].combine_chunks(), pa.array(mask), pa.array([values[i] for i in order], field.type)
    )
    return table.set_column(table.schema.get_field_index(column), column, new)


def damage_pk(
    table: pa.Table, pop: Population, geo: Geography, rate: float, rng, truth: Truth
) -> tuple[pa.Table, np.ndarray]:
    n_def = D.how_many(table.num_rows, rate, len(D.PK_DEFECTS))
    rows = D.assign_kinds(rng.choice(table.num_rows, n_def, replace=False), list(D.PK_DEFECTS), rng)
    kec = geo.desa["kode_kec"].to_numpy()[pop.f_desa]
    for kind, idx in rows.items():
        if kind == "nik_excel":
            table = _replace(table, "no_kk", idx, [D.excel_mangled(int(v)) for v in pop.f_no_kk[idx]])
        elif kind in ("unknown_wilayah", "bps_code"):
            codes = [
                unknown_desa_code(kec[i], geo.valid_codes)
                if kind == "unknown_wilayah"
                else bps_style_code(kec[i], j + 1)
                for j, i in enumerate(idx)
            ]
            table = _replace(table, "kode_desa", idx, [int(c.replace(".", "")) for c in codes])
        elif kind == "invalid_code":
            table = _replace(table, "desil", idx, [0] * len(idx))
    truth.defects("pk_keluarga", rows, D.PK_DEFECTS)
    bad = np.concatenate([v for v in rows.values()]) if rows else np.array([], dtype=np.int64)
    return table, bad


def _nik(pop: Population, geo: Geography, members: np.ndarray, birth: pd.DatetimeIndex) -> np.ndarray:
    """NIK: kecamatan (6) + birth date (day + 40 for women) + a serial (4) within kecamatan/date/sex."""
    kec = geo.desa["kec_digits"].to_numpy()[pop.f_desa[pop.m_family[members]]]
    female = pop.m_female[members]
    ddmmyy = (birth.day.to_numpy() + 40 * female) * 10_000 + birth.month.to_numpy() * 100 + birth.year.to_numpy() % 100
    key = pd.DataFrame({"k": kec, "d": ddmmyy})
    serial = key.groupby(["k", "d"], sort=False).cumcount().to_numpy() + 1
    return kec * 10**10 + ddmmyy * 10**4 + serial


def pk_anggota_table(pop: Population, geo: Geography, seed: int) -> tuple[pa.Table, np.ndarray]:
    rng = stream(seed, "anggota", pop.year)
    M = pop.n_members
    birth = pd.DatetimeIndex(pd.Timestamp(pop.ref_date) - pd.to_timedelta(pop.m_age_days, unit="D"))
    nik = _nik(pop, geo, np.arange(M), birth)
    female = pop.m_female
    first = np.where(
        female,
        np.array(P.NAMA_PEREMPUAN, dtype=object)[rng.integers(0, len(P.NAMA_PEREMPUAN), M)],
        np.array(P.NAMA_LAKI, dtype=object)[rng.integers(0, len(P.NAMA_LAKI), M)],
    )
    last = np.where(
        female,
        np.array(P.NAMA_BELAKANG_PEREMPUAN, dtype=object)[rng.integers(0, len(P.NAMA_BELAKANG_PEREMPUAN), M)],
        np.array(P.NAMA_BELAKANG_LAKI, dtype=object)[rng.integers(0, len(P.NAMA_BELAKANG_LAKI), M)],
    )
    has_last = rng.random(M) < 0.6
    nama = pc.if_else(
        pa.array(has_last), pc.binary_join_element_wise(pa.array(first), pa.array(last), " "), pa.array(first)
    )
    age_y = pop.m_age_days / 365.25
    hub = pop.m_hubungan
    kawin = np.where(
        (hub <= 2) & pop.f_couple[pop.m_family],
        2,
        np.where(hub == 1, rng.choice([3, 4], M), np.where(age_y > 24, rng.choice([1, 2], M, p=[0.6, 0.4]), 1)),
    )
    kawin = np.where(hub == 4, 4, kawin)
    shares = np.array(P.AGAMA_BY_PROVINCE.get(geo.provinsi, P.AGAMA_DEFAULT))
    agama_f = rng.choice(np.arange(1, 8), pop.n_families, p=shares / shares.sum())
    pendidikan = np.clip((age_y / 6).astype(int) + rng.integers(-1, 3, M), 1, 10)
    pekerjaan = np.where(age_y < 15, 1, rng.integers(2, 11, M))
    jkn = rng.choice([1, 2, 3, 4], M, p=[0.45, 0.35, 0.05, 0.15])
    table = pa.table(
        {
            "id_keluarga": _digits_to_text(pop.f_id[pop.m_family]),
            "nomor_anggota": pa.array(pop.m_nomor, pa.int64()),
            "nik": _digits_to_text(nik),
            "nama": nama,
            "jenis_kelamin": pa.array(np.where(female, 2, 1), pa.int64()),
            "tanggal_lahir": pa.array(birth.date, pa.date32()),
            "status_kawin": pa.array(kawin, pa.int64()),
            "hubungan_kk": pa.array(hub, pa.int64()),
            "agama": pa.array(agama_f[pop.m_family], pa.int64()),
            "pendidikan": pa.array(pendidikan, pa.int64()),
            "pekerjaan": pa.array(pekerjaan, pa.int64()),
            "jkn": pa.array(jkn, pa.int64()),
        }
    )
    return table, nik


# ---------------------------------------------------------------- the other sources


def _damage_frame(
    df: pd.DataFrame,
    name: str,
    kinds: dict[str, Callable],
    rate: float,
    rng,
    truth: Truth,
    candidates: np.ndarray | None = None,
) -> np.ndarray:
    """Row damage for a source (one kind per row, among `candidates` if given); returns the damaged positions."""
    pool = np.arange(len(df)) if candidates is None else candidates
    n_def = min(D.how_many(len(df), rate, len(kinds)), len(pool))
    rows = D.assign_kinds(rng.choice(pool, n_def, replace=False), list(kinds), rng)
    for kind, idx in rows.items():
        kinds[kind](df, df.index[idx])
    truth.defects(name, rows, D.OTHER_DEFECTS)
    return np.concatenate(list(rows.values())) if rows else np.array([], dtype=np.int64)


def synthesize(
    out: Path,
    provinsi: str = "19",
    months: list[tuple[int, int]] | None = None,
    seed: int = 7,
    defect_rate: float = 0.02,
    scale: float = 1.0,
    progress: bool = False,
) -> dict:
    """Write every source into `out` and `out/ground_truth.json`; return timings (not part of the truth)."""
    months = sorted(months or [(2024, m) for m in range(1, 13)])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    truth = Truth()
    for name in FOLDERS:
        truth.entity(name)
    years = sorted({y for y, _ in months})
    steps = ["geografi", "keluarga", "pk", "kampung_kb", "laporan", "posyandu", "ground_truth"]
    bar = tqdm(total=len(steps), desc="kkb synth", unit="tahap", disable=not progress)

    def step(label: str) -> None:
        bar.set_postfix_str(label)

    t0 = time.perf_counter()
    step("geografi")
    geo = load_geography(provinsi)
    kab = kab_profiles(geo, seed)
    people = (P.PROVINCE_POPULATION_K.get(provinsi, 0) * 1000) or P.PEOPLE_PER_DESA_FALLBACK * geo.n_desa
    n_families = (
        n_families_for(provinsi, scale) if provinsi in P.PROVINCE_POPULATION_K else int(people * scale / MEAN_SIZE)
    )
    timings["geografi_s"] = time.perf_counter() - t0
    bar.update()

    # PK rounds: one per year of the period (the register is updated yearly); members for the latest round
    step("keluarga")
    t1 = time.perf_counter()
    pops = {y: build_population(geo, kab, n_families, y, seed) for y in years}
    timings["families_generate_s"] = time.perf_counter() - t1
    bar.update()

    step("pk")
    t2 = time.perf_counter()
    pk_rng = stream(seed, "pk_defects")
    pk_truth = []
    kab_codes = geo.kab["kode_kab"].to_numpy()
    for y, pop in pops.items():
        table = pk_keluarga_table(pop, geo)
        table, bad = damage_pk(table, pop, geo, defect_rate, pk_rng, truth)
        valid = np.ones(pop.n_families, dtype=bool)
        valid[bad] = False
        # families are ordered by desa code, so each kabupaten is one contiguous slice: one file per kabupaten
        bounds = np.searchsorted(pop.f_kab, np.arange(len(kab_codes) + 1))
        paths = [
            out / FOLDERS["pk_keluarga"] / str(y) / f"pk_keluarga_{kode_kab.replace('.', '')}_{y}.csv.gz"
            for kode_kab in kab_codes
        ]
        slices = [table.slice(bounds[k], bounds[k + 1] - bounds[k]) for k in range(len(kab_codes))]
        with ThreadPoolExecutor(max_workers=2) as pool:  # Arrow's CSV writer and zlib release the GIL
            list(pool.map(write_gzip_csv, paths, slices))
        for k, kode_kab in enumerate(kab_codes):
            delivered(paths[k], dt.date(y, 10, 15))
            truth.file("pk_keluarga", slices[k].num_rows)
            sel = np.arange(bounds[k], bounds[k + 1])
            v = sel[valid[sel]]
            target = (pop.f_pus[v] == 1) | (pop.f_baduta[v] == 1) | (pop.f_balita[v] == 1)
            pk_truth.append(
                {
                    "kode_kab": kode_kab,
                    "tahun_pendataan": y,
                    "keluarga": int(len(v)),
                    "jiwa": int(pop.f_size[v].sum()),
                    "pus": int(pop.f_pus[v].sum()),
                    "ber_kb": int((pop.f_status[v] == 0).sum()),
                    "keluarga_sasaran": int(target.sum()),
                    "krs": int(pop.f_krs[v].sum()),
                }
            )
    timings["families_write_s"] = time.perf_counter() - t2
    total_families = sum(p.n_families for p in pops.values())
    timings["family_rows"] = total_families
    timings["family_rows_per_second"] = total_families / (timings["families_generate_s"] + timings["families_write_s"])
    latest = pops[years[-1]]
    t3 = time.perf_counter()
    members, nik = pk_anggota_table(latest, geo, seed)
    m_rng = stream(seed, "anggota_defects")
    m_rows = D.assign_kinds(
        m_rng.choice(members.num_rows, D.how_many(members.num_rows, defect_rate, 2), replace=False),
        ["nik_excel", "invalid_code"],
        m_rng,
    )
    if "nik_excel" in m_rows:
        mangled = [D.excel_mangled(int(v)) for v in nik[m_rows["nik_excel"]]]
        members = _replace(members, "nik", m_rows["nik_excel"], mangled)
    if "invalid_code" in m_rows:
        members = _replace(members, "jenis_kelamin", m_rows["invalid_code"], [3] * len(m_rows["invalid_code"]))
    truth.defects("pk_anggota", m_rows, D.OTHER_DEFECTS)
    m_kab = latest.f_kab[latest.m_family]
    for k, kode_kab in enumerate(kab_codes):
        sel = np.flatnonzero(m_kab == k)
        path = (
            out
            / FOLDERS["pk_anggota"]
            / str(latest.year)
            / f"pk_anggota_{kode_kab.replace('.', '')}_{latest.year}.csv.gz"
        )
        write_gzip_csv(path, members.take(pa.array(sel)))
        delivered(path, dt.date(latest.year, 10, 15))
        truth.file("pk_anggota", len(sel))
    timings["members_s"] = time.perf_counter() - t3
    bar.update()

    # Kampung KB: register/profile, monthly reports, activity posts, poktan
    step("kampung_kb")
    kkb = kampung.choose_kampung_kb(geo, seed)
    base = kampung.desa_base(latest, kkb)
    prof = kampung.profiles(kkb, geo, years, months, seed)
    p_rng = stream(seed, "profil_defects")
    kec_of = _kec_of(geo)
    # damage only profiles of Kampung KB that have another version, so every Kampung KB stays registered
    several = prof.groupby("kampung_kb_id")["kampung_kb_id"].transform("size").to_numpy() > 1
    first_of_several = several & ~prof.duplicated("kampung_kb_id", keep="last").to_numpy()
    _damage_frame(
        prof,
        "profil_kampung_kb",
        {
            "invalid_date": lambda df, ix: df.__setitem__(
                "tanggal_pencanangan", df["tanggal_pencanangan"].where(~df.index.isin(ix), "2015-08-17")
            ),
            "unknown_wilayah": lambda df, ix: df.__setitem__(
                "kode_desa",
                df["kode_desa"].where(
                    ~df.index.isin(ix), df["kode_desa"].map(lambda c: unknown_desa_code(kec_of[c], geo.valid_codes))
                ),
            ),
        },  # fmt: skip
        defect_rate,
        p_rng,
        truth,
        candidates=np.flatnonzero(first_of_several),
    )
    for y in years:
        rows = prof[prof["tahun"] == y]
        path = out / FOLDERS["profil_kampung_kb"] / f"profil_kampung_kb_{provinsi}_{y}.csv"
        write_text_csv(path, rows)
        delivered(path, dt.date(y, max(m for yy, m in months if yy == y), 28))
        truth.file("profil_kampung_kb", len(rows))
    posts = kampung.intervensi(kkb, months, seed)
    i_rng = stream(seed, "intervensi_defects")
    n_def = D.how_many(len(posts), defect_rate, 2)
    i_rows = D.assign_kinds(
        i_rng.choice(len(posts), n_def, replace=False), ["unknown_kampung_kb", "invalid_code"], i_rng
    )
    for i in i_rows.get("unknown_kampung_kb", []):
        posts[i]["kampung_kb_id"] = 999_999
    for i in i_rows.get("invalid_code", []):
        posts[i]["fungsi_keluarga"] = "Hiburan"
    truth.defects("intervensi", i_rows, D.OTHER_DEFECTS)
    damaged_posts = {int(i) for idx in i_rows.values() for i in idx}
    valid_posts = [p for i, p in enumerate(posts) if i not in damaged_posts]
    for y, m in months:
        recs = [r for r in posts if r["tanggal"].startswith(f"{y}-{m:02d}")]
        path = out / FOLDERS["intervensi"] / str(y) / f"intervensi_{provinsi}_{y}{m:02d}.jsonl"
        write_jsonl(path, recs)
        delivered(path, dt.date(y + (m == 12), m % 12 + 1, 1))
        truth.file("intervensi", len(recs))
    pok = kampung.poktan_register(kkb, base, months, seed)
    k_rng = stream(seed, "poktan_defects")
    _damage_frame(
        pok,
        "poktan",
        {
            "hadir_over_anggota": lambda df, ix: df.__setitem__(
                "jumlah_hadir", df["jumlah_hadir"].where(~df.index.isin(ix), df["jumlah_anggota"] + 3)
            )
        },  # fmt: skip
        defect_rate,
        k_rng,
        truth,
    )
    for y, m in months:
        rows = pok[(pok["tahun"] == y) & (pok["bulan"] == m)]
        path = out / FOLDERS["poktan"] / str(y) / f"poktan_{provinsi}_{y}{m:02d}.csv"
        write_text_csv(path, rows)
        delivered(path, dt.date(y + (m == 12), m % 12 + 1, 5))
        truth.file("poktan", len(rows))
    bar.update()

    step("laporan")
    reports = kampung.monthly_reports(kkb, base, kab, months, seed)
    winners = write_laporan(out, geo, reports, defect_rate, seed, truth)
    indik = indikator_kabupaten(winners, kkb, valid_posts)
    bar.update()

    # posyandu
    step("posyandu")
    posy = posyandu.master(geo, years, seed)
    s_rng = stream(seed, "posyandu_defects")
    _damage_frame(
        posy,
        "posyandu",
        {
            "unknown_wilayah": lambda df, ix: df.__setitem__(
                "kode_desa",
                df["kode_desa"].where(
                    ~df.index.isin(ix), df["kode_desa"].map(lambda c: unknown_desa_code(kec_of[c], geo.valid_codes))
                ),
            ),
            "invalid_code": lambda df, ix: df.__setitem__("strata", df["strata"].where(~df.index.isin(ix), "Utama")),
        },  # fmt: skip
        defect_rate,
        s_rng,
        truth,
    )
    for y in years:
        rows = posy[posy["tahun"] == y].drop(columns="_desa")
        path = out / FOLDERS["posyandu"] / f"posyandu_{provinsi}_{y}.csv"
        write_text_csv(path, rows)
        delivered(path, dt.date(y, 1, 31))
        truth.file("posyandu", len(rows))
    kids = posyandu.assign_children(latest, posy, seed)
    sk = posyandu.skdn(kids, posy, kab, geo, months, seed)
    sk_bad = _damage_frame(
        sk,
        "skdn",
        {
            "skdn_order": lambda df, ix: df.__setitem__("n", df["n"].where(~df.index.isin(ix), df["d"] + 2)),
            "stunting_over_measured": lambda df, ix: df.__setitem__(
                "pendek", df["pendek"].where(~df.index.isin(ix), df["balita_diukur_tb"] + 1)
            ),
        },  # fmt: skip
        defect_rate,
        s_rng,
        truth,
    )
    # recaps typed into the puskesmas' printed form: some write nil as "-", some end with a totals row (JUMLAH)
    sk_skipped: list[dict] = []
    for g, ((kode_kab, y, m), rows) in enumerate(sk.groupby(["kode_kab", "tahun", "bulan"], sort=True)):
        path = out / FOLDERS["skdn"] / kode_kab / f"skdn_{kode_kab.replace('.', '')}_{y}{m:02d}.csv"
        body = rows.drop(columns="kode_kab")
        counts = [c for c in body.columns if c not in ("kode_posyandu", "tahun", "bulan")]
        if g % 4 == 1:  # nil as a dash
            body = body.astype({c: object for c in counts})
            for c in counts:
                body[c] = ["-" if v == 0 else v for v in body[c]]
        if g % 3 == 0:  # a totals row
            sums = {c: int(pd.to_numeric(rows[c]).sum()) for c in counts}
            totals = pd.DataFrame([{"kode_posyandu": "JUMLAH", **sums}], dtype=object)
            body = pd.concat([body.astype(object), totals], ignore_index=True)
            sk_skipped.append(
                {"file": path.relative_to(out).as_posix(), "sheet": None, "row": len(rows) + 2, "reason": "totals row"}
            )
        write_text_csv(path, body, sep=";")
        delivered(path, dt.date(y + (m == 12), m % 12 + 1, 7))
        truth.file("skdn", len(body))
    truth.entity("skdn")["rows_skipped_expected"] = len(sk_skipped)
    truth.entity("skdn")["expected_skipped"] = sk_skipped
    sk_valid = sk.drop(index=sk.index[sk_bad])
    skdn_truth = (
        sk_valid.groupby(["kode_kab", "tahun", "bulan"], sort=True)[
            ["s", "k", "d", "n", "bgm", "balita_diukur_tb", "pendek", "sangat_pendek"]
        ]
        .sum()
        .reset_index()
    )
    meas = posyandu.measurements(kids, kab, months, seed)
    e_rng = stream(seed, "eppgbm_defects")
    child_nik = pd.Series(nik[meas["member"].to_numpy()], index=meas.index)
    fam = meas["family"].to_numpy()
    names = pk_anggota_names(members, meas["member"].to_numpy())
    ep = pd.DataFrame(
        {
            "nik_anak": child_nik.astype(str),
            "no_kk": latest.f_no_kk[fam].astype(str),
            "nama_anak": names,
            "tanggal_lahir": [d.isoformat() for d in meas["tanggal_lahir"]],
            "jenis_kelamin": meas["jenis_kelamin"],
            "kode_posyandu": meas["kode_posyandu"],
            "tanggal_ukur": [d.isoformat() for d in meas["tanggal_ukur"]],
            "berat_kg": meas["berat_kg"],
            "tinggi_cm": meas["tinggi_cm"],
            "cara_ukur": meas["cara_ukur"],
        }
    )
    ep_bad = _damage_frame(
        ep,
        "eppgbm",
        {
            "nik_excel": lambda df, ix: df.__setitem__(
                "nik_anak",
                df["nik_anak"].where(~df.index.isin(ix), df["nik_anak"].map(lambda v: D.excel_mangled(int(v)))),
            ),
            "out_of_range": lambda df, ix: df.__setitem__(
                "tinggi_cm", df["tinggi_cm"].where(~df.index.isin(ix), 400.0)
            ),
        },  # fmt: skip
        defect_rate,
        e_rng,
        truth,
    )
    kab_code_of = kab_codes[meas["kab"].to_numpy()]
    for (kode_kab, y, m), idx in (
        pd.DataFrame({"k": kab_code_of, "y": meas["tahun"], "m": meas["bulan"]})
        .groupby(["k", "y", "m"], sort=True)
        .groups.items()
    ):
        rows = ep.loc[idx]
        comma = int(kode_kab.replace(".", "")) % 2 == 0  # these kabupaten export with Indonesian Excel settings
        path = out / FOLDERS["eppgbm"] / kode_kab / f"eppgbm_{kode_kab.replace('.', '')}_{y}{m:02d}.csv"
        write_text_csv(path, rows, sep=";" if comma else ",", decimal="," if comma else ".")
        delivered(path, dt.date(y + (m == 12), m % 12 + 1, 10))
        truth.file("eppgbm", len(rows))
    mv = meas.drop(index=meas.index[ep_bad])
    stunting_truth = (
        mv.assign(
            kode_kab=kab_codes[mv["kab"].to_numpy()],
            pendek=(mv["z"] < -2) & (mv["z"] >= -3),
            sangat_pendek=mv["z"] < -3,
        )
        .groupby(["kode_kab", "tahun", "bulan"], sort=True)
        .agg(anak_diukur=("z", "size"), pendek=("pendek", "sum"), sangat_pendek=("sangat_pendek", "sum"))
        .reset_index()
    )
    bar.update()

    step("ground_truth")
    ground_truth = {
        "generator_version": GENERATOR_VERSION,
        "parameters": {
            "provinsi": provinsi,
            "nama_provinsi": geo.nama_provinsi,
            "months": [f"{y}-{m:02d}" for y, m in months],
            "seed": seed,
            "defect_rate": defect_rate,
            "scale": scale,
        },
        "geografi": {
            "kabupaten_kota": len(geo.kab),
            "kecamatan": int(geo.desa["kode_kec"].nunique()),
            "desa_kelurahan": geo.n_desa,
            "kampung_kb": len(kkb),
            "kampung_kb_desa_share": round(len(kkb) / geo.n_desa, 4),
            "kecamatan_with_kampung_kb": int(kkb["kode_kec"].nunique()),
            "posyandu": int((posy["tahun"] == years[0]).sum()),
        },
        "population": {str(y): {"families": p.n_families, "people": int(p.f_size.sum())} for y, p in pops.items()},
        "entities": truth.finish(),
        "indikator_kabupaten_bulanan": _records(indik),
        "cakupan_kabupaten": cakupan_kabupaten(geo, kkb),
        "skdn_kabupaten_bulanan": _records(skdn_truth),
        "stunting_eppgbm_kabupaten_bulanan": _records(stunting_truth),
        "pk_kabupaten": pk_truth,
        "notes": [
            "Indicators are computed from the valid, latest version of each report (corrections replace originals).",
            "MAL and Tradisional users are booked under non_kb_ias on the monthly report (design).",
            "rules_expected names the pipeline's rule each defect kind breaks (defects.py maps them).",
        ],
    }
    (out / "ground_truth.json").write_text(
        json.dumps(ground_truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    indik.to_csv(out / "ground_truth_indikator_kabupaten_bulanan.csv", index=False, lineterminator="\n")
    bar.update()
    bar.close()
    timings["total_s"] = time.perf_counter() - t0
    return timings


def pk_anggota_names(members: pa.Table, rows: np.ndarray) -> np.ndarray:
    return members["nama"].take(pa.array(rows)).to_numpy(zero_copy_only=False)


def _records(df: pd.DataFrame) -> list[dict]:
    """JSON-safe records: numpy ints to int, NaN to None, floats rounded to 10 places."""
    out = []
    for r in df.to_dict(orient="records"):
        rec = {}
        for k, v in r.items():
            if isinstance(v, (np.integer,)):
                v = int(v)
            elif isinstance(v, (float, np.floating)):
                v = None if np.isnan(v) else float(v)
            rec[k] = v
        out.append(rec)
    return out
