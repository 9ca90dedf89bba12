"""The demo-data generator: deterministic, realistic in shape and size, and honest about the defects it injects.

These tests read the generated files with plain pandas/openpyxl/gzip, not with the pipeline's readers.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from lokal import wilayah

from pipelines.synth import synthesize
from pipelines.synth.defects import excel_mangled
from pipelines.synth.geography import load_geography
from pipelines.synth.population import build_population, kab_profiles, n_families_for

MONTHS = [(2024, 1), (2024, 2)]
SOURCES = [
    "kampung_kb/profil", "kampung_kb/laporan_bulanan", "kampung_kb/intervensi", "posyandu/master", "posyandu/skdn",
    "posyandu/eppgbm", "bkkbn/pk_keluarga", "bkkbn/pk_anggota", "bkkbn/poktan",
]  # fmt: skip


def fingerprint(root: Path) -> dict[str, tuple[str, int]]:
    """sha256 and mtime of every file (ground_truth.json's mtime is the wall clock, its content is compared)."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            mtime = 0 if p.name.startswith("ground_truth") else p.stat().st_mtime_ns
            out[str(p.relative_to(root))] = (hashlib.sha256(p.read_bytes()).hexdigest(), mtime)
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth") / "raw"
    synthesize(out, provinsi="19", months=MONTHS, seed=7, scale=0.05)
    return out, json.loads((out / "ground_truth.json").read_text())


def test_same_seed_same_bytes_other_seed_other_data(demo, tmp_path):
    out, _ = demo
    again = tmp_path / "again"
    synthesize(again, provinsi="19", months=MONTHS, seed=7, scale=0.05)
    assert fingerprint(again) == fingerprint(out)
    other = tmp_path / "other"
    synthesize(other, provinsi="19", months=MONTHS, seed=8, scale=0.05)
    assert fingerprint(other) != fingerprint(out)


def test_every_source_is_written_in_its_delivered_form(demo):
    out, truth = demo
    for folder in SOURCES:
        assert any((out / folder).rglob("*.*")), folder
    assert set(truth["entities"]) == {
        "profil_kampung_kb", "kkbpk_bulanan", "intervensi", "posyandu", "skdn", "eppgbm", "pk_keluarga",
        "pk_anggota", "poktan",
    }  # fmt: skip
    laporan = out / "kampung_kb/laporan_bulanan"
    workbooks = sorted((laporan / "xlsx").rglob("*.xlsx"))
    assert len({p.parts[-3] for p in workbooks}) >= 2  # at least two kabupaten send Pokja workbooks
    # workbooks: title rows, header on row 5, the desa code as a number, the date (when there is one) as a date;
    # most carry no submission date (DOMAIN.md 3.4), some are .xls or .ods, many end in a signature block
    dated = undated = 0
    for path in (p for p in workbooks if "(1)" not in p.name and "revisi" not in p.name):
        try:
            ws = openpyxl.load_workbook(path)["Laporan Bulanan"]
        except Exception:  # the workbook whose upload broke off
            continue
        assert "LAPORAN BULANAN" in str(ws["A1"].value) and ws.merged_cells.ranges
        header = ["_".join(str(c.value).lower().split()) for c in ws[5]]
        assert header[1] == "kode_desa"
        data = 7 if ws.cell(6, 1).value == "CONTOH" else 6
        assert isinstance(ws.cell(data, 2).value, int) and len(str(ws.cell(data, 2).value)) == 10
        if header[-1] == "tanggal_lapor":
            assert ws.cell(data, len(header)).is_date
            dated += 1
        else:
            undated += 1
    assert dated and undated > dated
    for other in ("xls", "ods"):
        assert any((laporan / "xlsx").rglob(f"*.{other}")), other
    # portal exports: ';', some Windows-1252 (a Kampung KB name with a non-ASCII character), some with a BOM
    exports = sorted((laporan / "portal").rglob("*.csv"))
    raw = [p.read_bytes() for p in exports]
    assert all(b.split(b"\r\n")[0].count(b";") >= 25 for b in raw)
    assert any(b.startswith(b"\xef\xbb\xbf") for b in raw)
    not_utf8 = [b for b in raw if not _is_utf8(b)]
    assert not_utf8 and all(_is_cp1252(b) for b in not_utf8)
    # registers: gzip with mtime 0 (byte-identical for the same data)
    for gz in (out / "bkkbn").rglob("*.csv.gz"):
        head = gz.read_bytes()[:10]
        assert head[:2] == b"\x1f\x8b" and head[4:8] == b"\0\0\0\0"
    first = pd.read_json(next((out / "kampung_kb/intervensi").rglob("*.jsonl")), lines=True)
    assert isinstance(first.loc[0, "instansi"], list)


def _is_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _is_cp1252(b: bytes) -> bool:
    """Decodes as Windows-1252 and holds a non-ASCII character (a Kampung KB name such as 'Ma’rifah')."""
    try:
        return any(ord(ch) > 127 for ch in b.decode("cp1252"))
    except UnicodeDecodeError:
        return False


def test_geography_is_the_real_reference_list(demo):
    out, truth = demo
    geo = truth["geografi"]
    assert (geo["kabupaten_kota"], geo["kecamatan"], geo["desa_kelurahan"]) == (7, 47, 393)  # DOMAIN.md section 5
    assert 0.20 <= geo["kampung_kb_desa_share"] <= 0.40
    assert geo["kecamatan_with_kampung_kb"] == geo["kecamatan"]
    master = pd.read_csv(next((out / "posyandu/master").glob("*.csv")), dtype=str)
    valid = master[master["kode_desa"].map(lambda c: wilayah.get_wilayah(c) is not None)]
    per_desa = valid.groupby("kode_desa").size()
    assert per_desa.between(2, 8).all() and per_desa.median() >= 3  # 3-8 each (a defect row may move one away)
    assert len(valid) > 0.95 * len(master)


def test_province_magnitude_and_distributions():
    """At scale 1 Bangka Belitung has about 1.5 million people; CPR, unmet need and KRS are in realistic ranges."""
    geo = load_geography("19")
    kab = kab_profiles(geo, 7)
    pop = build_population(geo, kab, n_families_for("19", 1.0), 2024, 7)
    people = int(pop.f_size.sum())
    assert 1_400_000 <= people <= 1_650_000
    pus = pop.f_pus == 1
    ber_kb_modern = (pop.f_status == 0) & (pop.f_metode >= 0) & (pop.f_metode <= 6)
    cpr = ber_kb_modern[pus].mean()
    unmet = np.isin(pop.f_status, [3, 4])[pus].mean()
    assert 0.45 <= cpr <= 0.70 and 0.07 <= unmet <= 0.20
    suntik = (pop.f_metode[ber_kb_modern] == 4).mean()
    assert 0.40 <= suntik <= 0.65  # the most used method (Susenas 2024: 52.9 % of users)
    target = pus | (pop.f_balita == 1) | (pop.f_baduta == 1)
    assert 0.2 <= pop.f_krs[target].mean() <= 0.7
    assert len(np.unique(pop.f_id)) == pop.n_families and (pop.f_id // 10**15 >= 1).all()  # 16-digit ids
    # indicators differ by kabupaten
    by_kab = pd.Series(ber_kb_modern[pus]).groupby(pop.f_kab[pus]).mean()
    assert by_kab.max() - by_kab.min() > 0.03


def test_defect_counts_match_the_files(demo):
    """The ground truth's defect counts are what is in the files: recount a few kinds independently."""
    out, truth = demo
    pk = truth["entities"]["pk_keluarga"]
    frames = [pd.read_csv(p, dtype=str) for p in sorted((out / "bkkbn/pk_keluarga").rglob("*.csv.gz"))]
    fam = pd.concat(frames, ignore_index=True)
    assert len(fam) == pk["rows_written"]
    assert fam["no_kk"].str.contains("E+", regex=False).sum() == pk["defects"]["nik_excel"]
    assert (fam["desil"] == "0").sum() == pk["defects"]["invalid_code"]
    assert fam["kode_desa"].str.fullmatch(r"\d{6}0\d{3}").sum() == pk["defects"]["bps_code"]
    share = pk["rows_quarantined_expected"] / pk["rows_written"]
    assert 0.015 <= share <= 0.025  # default rate about 2 %
    lap = truth["entities"]["kkbpk_bulanan"]
    for kind in ("pus_balance", "poktan_over_target", "negative_count", "future_date", "unknown_wilayah", "bps_code",
                 "renamed_copy", "corrected_resubmission", "legacy_header"):  # fmt: skip
        assert lap["defects"][kind] >= 1, kind
    assert lap["defects"]["unreadable_file"] == 1 and lap["files_rejected_expected"] == 1
    laporan = out / "kampung_kb/laporan_bulanan"
    assert (
        len(list(laporan.rglob("*_revisi.xlsx")))
        + sum(len(pd.read_csv(p, sep=";", encoding="latin-1")) for p in laporan.rglob("*_koreksi.csv"))
        == lap["rows_superseded_expected"]
    )
    copies = list(laporan.rglob("* (1).*"))
    assert len(copies) == lap["files_duplicate_expected"] == 2
    for copy in copies:
        original = copy.with_name(copy.name.replace(" (1)", ""))
        assert copy.read_bytes() == original.read_bytes()
        assert copy.stat().st_mtime_ns > original.stat().st_mtime_ns  # delivered later
    assert excel_mangled(1901010101240001) == "1.90101E+15"


def test_no_defects_at_rate_zero(tmp_path):
    out = tmp_path / "clean"
    synthesize(out, provinsi="19", months=[(2024, 5)], seed=3, scale=0.02, defect_rate=0.0)
    truth = json.loads((out / "ground_truth.json").read_text())
    for name, e in truth["entities"].items():
        assert e["rows_quarantined_expected"] == 0 and e["files_rejected_expected"] == 0, name
        # rows that are not data (totals rows, examples, signature blocks) are delivery habits, not defects
        assert e["rows_valid_expected"] == e["rows_written"] - e["rows_skipped_expected"], name


def test_another_province_works(tmp_path):
    """Any province of the reference list: Bali (51), a single month."""
    out = tmp_path / "bali"
    synthesize(out, provinsi="51", months=[(2025, 1)], seed=1, scale=0.01)
    truth = json.loads((out / "ground_truth.json").read_text())
    assert truth["geografi"]["desa_kelurahan"] == 716  # DOMAIN.md: Bali has 716 desa/kelurahan
    assert {r["kode_kab"][:2] for r in truth["indikator_kabupaten_bulanan"]} == {"51"}
    assert os.listdir(out / "kampung_kb/laporan_bulanan")
    with gzip.open(next((out / "bkkbn/pk_keluarga").rglob("*.csv.gz")), "rt") as f:
        assert f.readline().startswith("id_keluarga,no_kk,kode_desa")
