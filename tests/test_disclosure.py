"""Small-cell suppression (pipelines/lib/disclosure.py) and the personal-data scan (pipelines/lib/pii_scan.py) on
hand-made marts: a province of 2 kabupaten, each of 2 kecamatan of 3 desa, one Kampung KB in some desa."""

import random

import duckdb
import pytest

from pipelines.lib import disclosure, pii_scan

PERIODE = 202401


def make_marts(con: duckdb.DuckDBPyConnection, desa_values: dict[str, tuple[int, int]], kb_of_desa=()) -> None:
    """desa code -> (jml_pus, pa_total); upper levels are the sums, as in the dbt macro; the Kampung KB of a desa in
    kb_of_desa carries its desa's figures (one Kampung KB per desa)."""
    con.execute("create schema src")
    con.execute(
        "create table src.rpt_desa_bulanan (kode_desa varchar, kode_kec varchar, kode_kab varchar, kode_prov varchar,"
        " periode_key int, jml_pus bigint, pa_total bigint, jumlah_laporan bigint, cpr double)"
    )
    for kode, (pus, pa) in desa_values.items():
        kec, kab, prov = kode.rsplit(".", 1)[0], kode.rsplit(".", 2)[0], kode[:2]
        cpr = pa / pus * 100 if pus else None
        con.execute(
            "insert into src.rpt_desa_bulanan values (?, ?, ?, ?, ?, ?, ?, 1, ?)",
            [kode, kec, kab, prov, PERIODE, pus, pa, cpr],
        )
    for table, key, parent in (
        ("rpt_kecamatan_bulanan", "kode_kec", "kode_kab"),
        ("rpt_kabupaten_bulanan", "kode_kab", "kode_prov"),
        ("rpt_provinsi_bulanan", "kode_prov", None),
    ):
        keep = f"{key}, {parent}" if parent else key
        con.execute(
            f"create table src.{table} as select {keep}, periode_key, sum(jml_pus) as jml_pus, "
            f"sum(pa_total) as pa_total, sum(jumlah_laporan) as jumlah_laporan, "
            f"sum(pa_total) / nullif(sum(jml_pus), 0) * 100 as cpr from src.rpt_desa_bulanan group by all"
        )
    con.execute(
        "create table src.rpt_kampung_kb_bulanan as select row_number() over (order by kode_desa) as kampung_kb_id,"
        " kode_desa, periode_key, jml_pus, pa_total, cpr, cpr as desa_cpr from src.rpt_desa_bulanan"
        f" where kode_desa in (select unnest({list(kb_of_desa)!r}::varchar[]))"
    )


def desa_codes() -> list[str]:
    return [f"19.0{kab}.0{kec}.100{d}" for kab in (1, 2) for kec in (1, 2) for d in (1, 2, 3)]


def published(con, table: str, key: str) -> dict[str, dict]:
    rel = con.sql(f"select * from main.{table}")
    return {r[rel.columns.index(key)]: dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()}


def run(desa_values, kb_of_desa=()):
    con = duckdb.connect()
    make_marts(con, desa_values, kb_of_desa)
    report = disclosure.suppress(con, "src", "main")
    return con, report


def test_counts_from_one_to_four_are_hidden_zero_and_five_stay():
    values = dict.fromkeys(desa_codes(), (50, 30))
    values["19.01.01.1001"] = (4, 0)
    values["19.02.02.1002"] = (5, 5)
    con, report = run(values)
    desa = published(con, "rpt_desa_bulanan", "kode_desa")
    assert desa["19.01.01.1001"]["jml_pus"] is None
    assert desa["19.01.01.1001"]["pa_total"] == 0
    assert desa["19.01.01.1001"]["cpr"] is None  # its denominator is hidden
    assert desa["19.02.02.1002"]["jml_pus"] == 5
    assert report.primary == 1
    assert desa["19.01.01.1001"]["kolom_disensor"] == "jml_pus, cpr"
    assert desa["19.02.02.1003"]["kolom_disensor"] is None


def test_a_single_hidden_part_gets_a_complement_so_the_total_does_not_give_it_back():
    values = dict.fromkeys(desa_codes(), (50, 30))
    values["19.01.01.1001"] = (3, 2)
    values["19.01.01.1002"] = (20, 10)
    values["19.01.01.1003"] = (40, 20)
    con, _ = run(values)
    desa = published(con, "rpt_desa_bulanan", "kode_desa")
    kec = published(con, "rpt_kecamatan_bulanan", "kode_kec")
    assert kec["19.01.01"]["jml_pus"] == 63  # the total stays visible
    # the smallest visible part of the same sum is hidden too
    assert desa["19.01.01.1002"]["jml_pus"] is None
    assert desa["19.01.01.1003"]["jml_pus"] == 40
    assert disclosure.audit(con, "main") == []


def test_a_small_total_with_one_non_zero_part_is_hidden_up_the_hierarchy():
    values = dict.fromkeys(desa_codes(), (50, 30))
    for d in ("19.01.01.1001", "19.01.01.1002", "19.01.01.1003"):
        values[d] = (0, 0)
    values["19.01.01.1001"] = (3, 1)  # the kecamatan total is 3 too
    con, _ = run(values)
    kec = published(con, "rpt_kecamatan_bulanan", "kode_kec")
    assert kec["19.01.01"]["jml_pus"] is None
    # the kecamatan is the only hidden part of its kabupaten: a sibling kecamatan is hidden as well
    assert kec["19.01.02"]["jml_pus"] is None
    assert published(con, "rpt_kabupaten_bulanan", "kode_kab")["19.01"]["jml_pus"] == 3 + 150
    assert disclosure.audit(con, "main") == []


def test_kampung_kb_rows_follow_their_desa_and_copy_its_published_figures():
    values = dict.fromkeys(desa_codes(), (50, 30))
    values["19.02.01.1001"] = (60, 3)
    con, _ = run(values, kb_of_desa=["19.02.01.1001", "19.02.01.1002"])
    kb = {r["kode_desa"]: r for r in published(con, "rpt_kampung_kb_bulanan", "kampung_kb_id").values()}
    assert kb["19.02.01.1001"]["pa_total"] is None and kb["19.02.01.1001"]["cpr"] is None
    assert kb["19.02.01.1001"]["desa_cpr"] is None  # copied from the desa as published
    assert kb["19.02.01.1002"]["jml_pus"] == 50
    assert disclosure.audit(con, "main") == []


@pytest.mark.parametrize("seed", range(8))
def test_random_marts_leave_no_sum_with_exactly_one_hidden_cell(seed):
    rng = random.Random(seed)
    values = {d: (rng.choice([0, 0, 1, 2, 3, 4, 5, 6, 9, 30]), rng.choice([0, 1, 2, 3, 7, 12])) for d in desa_codes()}
    kb = [d for d in desa_codes() if rng.random() < 0.5]
    con, report = run(values, kb)
    assert disclosure.audit(con, "main") == []
    small = " + ".join(
        f"(select count(*) filter (where jml_pus between 1 and 4) + count(*) filter (where pa_total between 1 and 4)"
        f" from src.{level.table})"
        for level in disclosure.HIERARCHY
    )
    assert report.primary == con.sql(f"select {small}").fetchone()[0]
    # what is shown is the true figure
    desa = published(con, "rpt_desa_bulanan", "kode_desa")
    for d, (pus, pa) in values.items():
        assert desa[d]["jml_pus"] in (None, pus) and desa[d]["pa_total"] in (None, pa)


def test_the_audit_finds_a_sum_with_one_hidden_cell():
    values = dict.fromkeys(desa_codes(), (50, 30))
    values["19.01.01.1001"] = (3, 2)
    con, _ = run(values)
    con.execute(
        "update main.rpt_desa_bulanan set jml_pus = 20, kolom_disensor = null where kode_desa = '19.01.01.1002'"
    )
    assert any("exactly one hidden cell" in v for v in disclosure.audit(con, "main"))
    con.execute("update main.rpt_desa_bulanan set jml_pus = 3 where kode_desa = '19.01.01.1002'")
    assert any("visible count" in v for v in disclosure.audit(con, "main"))


@pytest.mark.parametrize(
    ("table", "column", "named"),
    [
        ("rpt_desa_bulanan", "jumlah_bidan bigint", "jumlah_bidan"),  # a numeric column nobody classified
        ("rpt_kampung_kb_bulanan", "mkjp double", "pa_mkjp"),  # a rate whose counts the mart lacks
    ],
)
def test_a_column_the_suppression_cannot_place_stops_it(table, column, named):
    con = duckdb.connect()
    make_marts(con, dict.fromkeys(desa_codes(), (50, 30)))
    con.execute(f"alter table src.{table} add column {column}")
    with pytest.raises(disclosure.DisclosureSpecError, match=named):
        disclosure.suppress(con, "src", "main")


def test_the_scan_finds_identifiers_pseudonyms_and_personal_columns(tmp_path):
    con = duckdb.connect()
    con.execute("create table clean (kode_desa varchar, nama_desa varchar, jumlah bigint, tanggal_awal date)")
    con.execute("insert into clean values ('19.01.01.1001', 'Sungailiat', 12, date '2024-01-01')")
    findings, coverage = pii_scan.scan(con, "main")
    assert findings == [] and coverage["tables"] == 1 and coverage["columns"] == 4

    con.execute("create table leaky (catatan varchar, nomor bigint, tanggal_lahir date, nama_anak varchar)")
    con.execute(
        "insert into leaky values ('1901011203870001', 1901011203870001, date '1987-03-12', 'x'), "
        "(repeat('ab', 32), 5, null, null)"
    )
    rules = {(f.table, f.column, f.rule.split(" ")[0]) for f in pii_scan.scan(con, "main")[0]}
    assert ("leaky", "catatan", "16-digit") in rules
    assert ("leaky", "catatan", "64-hex") in rules
    assert ("leaky", "nomor", "16-digit") in rules
    assert ("leaky", "tanggal_lahir", "column") in rules
    assert ("leaky", "nama_anak", "column") in rules
    assert not any(t == "clean" for t, _, _ in rules)

    landed = tmp_path / "landed.parquet"
    duckdb.sql("select 'pseudonym-of-a-family' as keluarga_id").write_parquet(str(landed))
    con.execute("insert into clean values ('pseudonym-of-a-family', 'x', 0, null)")
    findings, _ = pii_scan.scan(con, "main", known_pseudonyms=[(str(landed), "keluarga_id")])
    assert [(f.table, f.column) for f in findings if "pseudonym in the landing" in f.rule] == [("clean", "kode_desa")]


def test_each_level_adds_up_into_the_level_before_it():
    for parent, child in zip(disclosure.HIERARCHY, disclosure.HIERARCHY[1:], strict=False):
        assert child.parent_key == parent.key, (child.table, parent.table)
    assert disclosure.HIERARCHY[0].parent_key is None
