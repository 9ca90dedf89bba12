"""Row counts for the dbt tables, taken after dbt has released the DuckDB file."""

import duckdb

from pipelines.lib.row_counts import counted_relations, table_row_counts

MANIFEST = {
    "nodes": {
        "model.p.t": {"relation_name": '"w"."main"."t"', "config": {"materialized": "table"}},
        "model.p.v": {"relation_name": '"w"."main"."v"', "config": {"materialized": "view"}},
        "seed.p.s": {"relation_name": '"w"."main"."s"', "config": {"materialized": "seed"}},
        "model.p.failed": {"relation_name": '"w"."main"."failed"', "config": {"materialized": "table"}},
        "test.p.x": {"relation_name": None, "config": {"materialized": "test"}},
    }
}


def test_only_tables_are_counted_and_a_missing_table_is_left_out(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table t as select * from range(7)")
        con.execute("create table s as select * from range(2)")
        con.execute("create view v as select * from t")
    relations = counted_relations(MANIFEST, ["model.p.t", "model.p.v", "seed.p.s", "model.p.failed", "test.p.x"])
    assert set(relations) == {"model.p.t", "seed.p.s", "model.p.failed"}
    assert table_row_counts(path, relations) == {"model.p.t": 7, "seed.p.s": 2}


def test_nothing_to_count_opens_nothing(tmp_path):
    assert table_row_counts(tmp_path / "absent.duckdb", {"a": '"w"."main"."t"'}) == {}
    assert table_row_counts(tmp_path / "absent.duckdb", {}) == {}


def test_previews_list_kabupaten_but_only_spread_below(tmp_path):
    from pipelines.lib.previews import mart_previews

    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "create table rpt_kabupaten_bulanan as select * from (values "
            "('Kabupaten A', 202403, 55.25), ('Kabupaten B', 202403, 60.0), ('Kabupaten A', 202402, 1.0)"
            ") t(nama_kab, periode_key, cpr)"
        )
        con.execute(
            "create table rpt_desa_bulanan as select * from (values "
            "('Desa Satu', 202403, 40.0), ('Desa Dua', 202403, 50.0), ('Desa Tiga', 202403, null)"
            ") t(nama_desa, periode_key, cpr)"
        )
        con.execute("create table rpt_kecamatan_bulanan (nama_kec varchar, periode_key int, cpr double)")
    previews = mart_previews(path, ["rpt_kabupaten_bulanan", "rpt_desa_bulanan", "rpt_kecamatan_bulanan", "x"])
    assert set(previews) == {"rpt_kabupaten_bulanan", "rpt_desa_bulanan"}  # the empty mart has no preview
    kab = previews["rpt_kabupaten_bulanan"]
    assert "2024-03" in kab and "| Kabupaten A | 55.2 |" in kab and "| Kabupaten B | 60.0 |" in kab
    assert "1.0" not in kab  # an older month is not shown
    desa = previews["rpt_desa_bulanan"]
    assert "Desa" not in desa.replace("desa/kelurahan", "")  # no unit's name below the kabupaten
    assert "| CPR | 2 | 40.0 | 42.5 | 45.0 | 47.5 | 50.0 |" in desa
