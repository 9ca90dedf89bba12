"""`kkb explain`: a published number traced back to the submissions, files and rows behind it, on the warehouse the
end-to-end run built from generated data (tests/e2e_run.py), plus the file-name conventions it reads."""

from __future__ import annotations

import json
import re

import duckdb
import pytest
from click.testing import CliRunner

from pipelines.lib import explain as ex
from pipelines.lib.explain import FileScope, file_scope
from tests.e2e_run import E2E, query


def test_file_names_say_which_kampung_kb_region_and_month_they_hold():
    assert file_scope("kampung_kb/laporan_bulanan/xlsx/19.06/2024-03/Laporan_KKB_77729_202403.xlsx") == FileScope(
        77729, "1906", 202403
    )
    assert file_scope("kampung_kb/laporan_bulanan/xlsx/19.06/2024-03/Laporan_KKB_77729_202403_revisi.xlsx") == (
        FileScope(77729, "1906", 202403)
    )
    assert file_scope("kampung_kb/laporan_bulanan/portal/19.02/export_laporan_1902_202401_koreksi.csv") == FileScope(
        None, "1902", 202401
    )
    assert file_scope("posyandu/skdn/19.01/skdn_1901_202401 (1).csv") == FileScope(None, "1901", 202401)
    assert file_scope("bkkbn/pk_keluarga/2024/pk_keluarga_1901_2024.csv.gz") == FileScope(None, "1901", 2024, True)
    assert file_scope("kampung_kb/intervensi/2024/intervensi_19_202401.jsonl") == FileScope(None, "19", 202401)
    assert file_scope("kampung_kb/laporan_bulanan/lain/laporan maret.xlsx") == FileScope()


def test_a_file_is_in_scope_when_its_month_and_area_agree_or_are_unknown():
    kab_march = FileScope(None, "1906", 202403)
    assert ex._file_in_scope(kab_march, "19", 202403, set())  # a kabupaten file, asked about its province
    assert ex._file_in_scope(kab_march, "190601", 202403, set())  # ... or about one of its kecamatan
    assert not ex._file_in_scope(kab_march, "1901", 202403, set())
    assert not ex._file_in_scope(kab_march, "1906", 202404, set())
    assert ex._file_in_scope(FileScope(), "1906", 202404, set())  # a name that says nothing: may hold anything
    assert ex._file_in_scope(FileScope(None, "1906", 2024, True), "1906", 202404, set())
    assert not ex._file_in_scope(FileScope(5, "1906", 202403), "1906", 202403, {6, 7})


def test_a_warehouse_being_written_or_not_yet_built_is_said_so(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "kampung_kb.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(ex.ExplainError, match="not fully built"):
        ex.explain(path, tmp_path, "rpt_provinsi_bulanan", "19", "2024-01", "cpr")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
         "sys.stdin.readline()", str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(ex.ExplainError, match="being written by a run"):
            ex.explain(path, tmp_path, "rpt_provinsi_bulanan", "19", "2024-01", "cpr")
    finally:
        holder.communicate("\n", timeout=30)


def test_questions_that_cannot_be_answered_say_why(e2e: E2E):
    s = e2e.settings
    with pytest.raises(ex.ExplainError, match="unknown reporting mart"):
        ex.explain(s.duckdb_path, s.quarantine_dir, "fct_kkbpk_bulanan", "19", "2024-01", "cpr")
    with pytest.raises(ex.ExplainError, match="has no indicator 'cpr_x'"):
        ex.explain(s.duckdb_path, s.quarantine_dir, "rpt_provinsi_bulanan", "19", "2024-01", "cpr_x")
    with pytest.raises(ex.ExplainError, match="not a month"):
        ex.explain(s.duckdb_path, s.quarantine_dir, "rpt_provinsi_bulanan", "19", "2024-13", "cpr")
    with pytest.raises(ex.ExplainError, match="has no kabupaten/kota '99.99'"):
        ex.explain(s.duckdb_path, s.quarantine_dir, "rpt_kabupaten_bulanan", "99.99", "2024-01", "cpr")
    with pytest.raises(ex.ExplainError, match="no warehouse"):
        ex.explain(s.warehouse_dir / "nothing.duckdb", s.quarantine_dir, "rpt_provinsi_bulanan", "19", "2024-01", "cpr")


def test_every_percentage_of_every_reporting_mart_can_be_explained(e2e: E2E):
    for mart in ex.LEVELS:
        doubles = {
            r[0]
            for r in query(
                e2e.settings,
                f"select column_name from information_schema.columns where table_name = '{mart}' "
                "and data_type = 'DOUBLE'",
            )
        }
        not_explained = set(ex.NOT_EXPLAINED) if mart == "rpt_kampung_kb_bulanan" else set()
        assert doubles == set(ex.indicators_of(mart)) | not_explained, mart


def _units(con: duckdb.DuckDBPyConnection, mart: str, code: str, key: int, n: int | None) -> list[str]:
    rows = con.execute(f'select distinct {code} from "{mart}" where periode_key = ? order by 1', [key]).fetchall()
    units = [str(r[0]) for r in rows]
    if n is None or len(units) <= n:
        return units
    return [*units[:2], units[len(units) // 2], units[-1]][:n]


def test_contributions_add_up_to_every_published_indicator_at_every_level(e2e: E2E):
    """Every indicator of every reporting mart: province and kabupaten for every month and unit, kecamatan, desa and
    Kampung KB for four units of the newest month. The sums are taken here from the contributions, not from the
    tool's own check."""
    s = e2e.settings
    checked = 0
    with ex.connect(s.duckdb_path) as con:
        months = [
            r[0] for r in con.execute("select distinct periode_key from rpt_provinsi_bulanan order by 1").fetchall()
        ]
        assert len(months) == 3
        for mart, level in ex.LEVELS.items():
            whole = level.name in ("prov", "kab")
            for key in months if whole else months[-1:]:
                sample = None if whole else 4
                for kode in _units(con, mart, level.code, key, sample):
                    value = kode if level.name != "kampung_kb" else int(kode)
                    row = (
                        con.execute(f'select * from "{mart}" where {level.code} = ? and periode_key = ?', [value, key])
                        .df()
                        .iloc[0]
                    )
                    memo: dict = {}  # one read per source and unit, as the Dagster explanation does
                    for indikator in ex.indicators_of(mart):
                        e = ex.explain_with(con, s.quarantine_dir, mart, kode, key, indikator, memo)
                        published = None if row[indikator] != row[indikator] else float(row[indikator])
                        assert e.value == published, (mart, kode, key, indikator)
                        assert e.sums_match and e.value_matches, (mart, kode, key, indikator)
                        num = sum(sum(c["figures"][col] for col in e.numerator_columns) for c in e.contributions)
                        den = sum(c["figures"][e.denominator_column] for c in e.contributions)
                        assert ex.percent(num, den) == published, (mart, kode, key, indikator)
                        if indikator not in ex.DESA_OF_KAMPUNG_KB:  # the Kampung KB mart has not its desa's sums
                            assert (num, den) == (
                                sum(int(row[col]) for col in e.numerator_columns),
                                int(row[e.denominator_column]),
                            ), (mart, kode, key, indikator)
                        checked += 1
    assert checked > 600


def _explain(e2e: E2E, mart: str, kode: str, key: int, indikator: str) -> ex.Explanation:
    return ex.explain(e2e.settings.duckdb_path, e2e.settings.quarantine_dir, mart, kode,
                      f"{key // 100}-{key % 100:02d}", indikator)  # fmt: skip


def test_a_quarantined_report_is_left_out_with_its_reason(e2e: E2E):
    s = e2e.settings
    files = [str(p) for p in (s.quarantine_dir / "kkbpk_bulanan").rglob("*.parquet") if "_schema" not in p.parts]
    # quarantined reports of active Kampung KB that have no valid report that month
    rows = duckdb.sql(
        f"""select q.id, q.periode_key, q._file, q._row, q.reasons
            from (select try_cast(record->>'kampung_kb_id' as bigint) as id,
                    try_cast(record->>'tahun' as integer) * 100 + try_cast(record->>'bulan' as integer) as periode_key,
                    _file, _row, reasons from read_parquet({files!r})) q"""
    ).fetchall()
    active = {(r[0], r[1]): r[2] for r in query(
        s, "select a.kampung_kb_id, a.periode_key, w.kode_kab from int_kampung_kb__aktif_bulanan a "
           "join dim_wilayah w using (kode_desa)")}  # fmt: skip
    reported = {(r[0], r[1]) for r in query(s, "select kampung_kb_id, periode_key from fct_kkbpk_bulanan")}
    cases = [r for r in rows if (r[0], r[1]) in active and (r[0], r[1]) not in reported]
    assert cases, "the generated data has quarantined reports of active Kampung KB"
    for kampung_kb_id, key, file, row, reasons in cases:
        e = _explain(e2e, "rpt_kabupaten_bulanan", active[(kampung_kb_id, key)], key, "cpr")
        entry = next(r for r in e.left_out if r["unit_id"] == str(kampung_kb_id))
        assert (entry["why"], entry["reason"], entry["file"], entry["row"]) == ("quarantined", reasons, file, row)
        assert str(kampung_kb_id) not in {c["unit_id"] for c in e.contributions}
        assert e.expected == len(e.contributions) + len(e.left_out)
        # asked about the Kampung KB itself, the answer is the same reason
        with pytest.raises(ex.ExplainError, match=f"quarantined: {re.escape(reasons)} \\({re.escape(file)}:{row}\\)"):
            _explain(e2e, "rpt_kampung_kb_bulanan", str(kampung_kb_id), key, "cpr")


def test_a_rejected_file_is_left_out_with_its_reason(e2e: E2E):
    s = e2e.settings
    rejected = query(s, "select file_path, reason from stg_landing__manifest where entity = 'kkbpk_bulanan' "
                        "and status = 'rejected'")  # fmt: skip
    assert len(rejected) == e2e.truth["entities"]["kkbpk_bulanan"]["files_rejected_expected"] >= 1
    for path, reason in rejected:
        scope = file_scope(path)
        sql = (
            "select w.kode_kab from int_kampung_kb__aktif_bulanan a join dim_wilayah w using (kode_desa) "
            f"where a.kampung_kb_id = {scope.kampung_kb_id} and a.periode_key = {scope.periode_key}"
        )
        kab = query(s, sql)[0][0]
        for mart, kode in (("rpt_kabupaten_bulanan", kab), ("rpt_provinsi_bulanan", "19")):
            e = _explain(e2e, mart, kode, scope.periode_key, "kelengkapan_laporan")
            entry = next(r for r in e.left_out if r["unit_id"] == str(scope.kampung_kb_id))
            assert (entry["why"], entry["reason"], entry["file"]) == ("rejected file", reason, path)
            assert {"file": path, "reason": reason} in [
                {"file": r["file"], "reason": r["reason"]} for r in e.rejected_files
            ]
            unit = next(c for c in e.contributions if c["unit_id"] == str(scope.kampung_kb_id))
            assert unit["figures"] == {"jumlah_laporan": 0, "jumlah_kampung_kb_aktif": 1}


def test_a_corrected_resubmission_shows_the_submission_it_superseded(e2e: E2E):
    s = e2e.settings
    superseded = query(
        s,
        "select kampung_kb_id, tahun * 100 + bulan, _file, _sheet, _row, superseded_by_file, superseded_by_row "
        "from stg_landing__kkbpk_bulanan_submissions where not is_latest",
    )
    expected = e2e.truth["entities"]["kkbpk_bulanan"]["rows_superseded_expected"]
    assert len(superseded) == expected >= 2
    for kampung_kb_id, key, file, sheet, row, by_file, by_row in superseded:
        e = _explain(e2e, "rpt_kampung_kb_bulanan", str(kampung_kb_id), key, "cpr")
        assert [(r["file"], r["row"], r["superseded_by_file"], r["superseded_by_row"]) for r in e.superseded] == [
            (file, row, by_file, by_row)
        ]
        (counted,) = e.contributions
        replaced = {"file": file, "sheet": sheet, "row": row}  # the sheet: None for a text file
        assert (counted["file"], counted["row"], counted["supersedes"]) == (by_file, by_row, replaced)
        assert "_revisi" in by_file or "_koreksi" in by_file
        kab = _explain(e2e, "rpt_kabupaten_bulanan", counted["kode_desa"][:5], key, "cpr")
        assert (file, row) in {(r["file"], r["row"]) for r in kab.superseded}


def test_the_command_prints_text_and_json(e2e: E2E, monkeypatch):
    from pipelines.cli import main

    s = e2e.settings
    monkeypatch.setenv("KKB_RAW_DIR", str(s.raw_dir))
    monkeypatch.setenv("KKB_WAREHOUSE_DIR", str(s.warehouse_dir))
    kab, key = query(s, "select kode_kab, max(periode_key) from rpt_kabupaten_bulanan group by 1 order by 1 limit 1")[0]
    periode = f"{key // 100}-{key % 100:02d}"
    args = ["explain", "rpt_kabupaten_bulanan", "--kode", kab, "--periode", periode, "--indikator", "cpr"]
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    cpr, pa_total, jml_pus = query(s, f"select cpr, pa_total, jml_pus from rpt_kabupaten_bulanan "
                                      f"where kode_kab = '{kab}' and periode_key = {key}")[0]  # fmt: skip
    assert (data["value"], data["numerator"], data["denominator"]) == (cpr, pa_total, jml_pus)
    assert data["sums_match"] and data["value_matches"]
    assert all(c["file"] and c["row"] and c["file_sha256"] and c["batch"] for c in data["contributions"])
    text = CliRunner().invoke(main, args)
    assert text.exit_code == 0
    assert f"pa_total {pa_total:,} / jml_pus {jml_pus:,}" in text.output
    assert all(c["file"] in text.output for c in data["contributions"])
    wrong = CliRunner().invoke(main, [*args[:-1], "cpr_total"])
    assert wrong.exit_code != 0 and "has no indicator 'cpr_total'" in wrong.output


def test_reporting_assets_show_the_explanation_of_their_newest_month_in_the_ui(e2e: E2E):
    shown = {}
    for event in e2e.second.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if "explanation" in materialization.metadata:
            shown[materialization.asset_key.path[-1]] = materialization.metadata["explanation"].value
    assert set(shown) == set(ex.LEVELS)
    newest, cpr, active = query(
        e2e.settings,
        "select periode_key, cpr, jumlah_kampung_kb_aktif from rpt_provinsi_bulanan order by periode_key desc limit 1",
    )[0]
    text = shown["rpt_kabupaten_bulanan"]
    assert f"**{newest // 100}-{newest % 100:02d}**" in text
    assert f"| CPR | {cpr:.1f} |" in text
    assert f"active Kampung KB: {active:,}" in text
    assert "**NO**" not in text and text.count("| yes |") == len(ex.INDICATORS)
    # aggregates only: no person-level row (the PK and measurement sources are counted, not listed)
    assert "nik" not in text.lower() and not re.search(r"\d{16}|[0-9a-f]{32}", text)


def test_a_report_naming_a_desa_in_another_area_is_shown_as_counted_there(e2e: E2E, tmp_path):
    import shutil

    s = e2e.settings
    copy = tmp_path / "kampung_kb.duckdb"
    shutil.copy(s.duckdb_path, copy)
    con = duckdb.connect(str(copy))
    kampung_kb_id, key, kab = con.execute(
        "select f.kampung_kb_id, f.periode_key, w.kode_kab from fct_kkbpk_bulanan f join dim_wilayah w "
        "using (kode_desa) order by f.periode_key desc, f.kampung_kb_id limit 1"
    ).fetchone()
    other = con.execute(
        "select kode_desa from dim_wilayah where kode_kab <> ? and kode_prov = ? order by kode_desa limit 1",
        [kab, kab[:2]],
    ).fetchone()[0]
    con.execute(
        "update fct_kkbpk_bulanan set kode_desa = ? where kampung_kb_id = ? and periode_key = ?",
        [other, kampung_kb_id, key],
    )
    con.close()
    periode = f"{key // 100}-{key % 100:02d}"
    here = ex.explain(copy, s.quarantine_dir, "rpt_kabupaten_bulanan", kab, periode, "cpr")
    entry = next(r for r in here.left_out if r["unit_id"] == str(kampung_kb_id))
    assert entry["why"] == "counted elsewhere" and other in entry["reason"]
    there = ex.explain(copy, s.quarantine_dir, "rpt_desa_bulanan", other, periode, "cpr")
    assert str(kampung_kb_id) in {c["unit_id"] for c in there.contributions}


def test_an_explanation_that_cannot_be_made_is_said_in_the_preview_not_raised(tmp_path):
    from pipelines.lib.previews import explanation_previews

    path = tmp_path / "kampung_kb.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "create table rpt_provinsi_bulanan as select '19' as kode_prov, 'P' as nama_prov, 202401 as periode_key"
    )
    con.close()
    shown = explanation_previews(path, tmp_path, ["rpt_provinsi_bulanan", "dim_wilayah"])
    assert list(shown) == ["rpt_provinsi_bulanan"]
    assert shown["rpt_provinsi_bulanan"].startswith("The explanation could not be made: ")
