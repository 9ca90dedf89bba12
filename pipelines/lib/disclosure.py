"""Small-cell suppression of the reporting marts before BI tools see them (UU PDP; DOMAIN.md section 6).

Rules, in the words of the people who use the figures:
- primary: a count of persons or families from 1 to 4 is not published (NULL). Zero is published: "nobody in this
  desa uses an IUD" says nothing about a person, and analysts need zeros to tell "none" from "hidden".
- complementary: the region levels add up (provinsi = sum of kabupaten = sum of kecamatan = sum of desa = sum of the
  Kampung KB reports of the desa, per month and column). Wherever exactly one cell of such a sum (the total or one
  part) is hidden it could be recovered by subtraction, so a second cell is hidden: the smallest non-zero visible part,
  or the total when every other part is zero. This repeats until no sum has exactly one hidden cell.
- a percentage is hidden when any count it is computed from is hidden (rate x denominator gives the numerator back).
- counts of units (reports, Kampung KB, posyandu, desa, agencies, classes) are not about persons and stay visible.

What it does not protect (written down in the README limits): differences between nested counts of one row (S - D is
the number of children not weighed) and interval attacks on the hidden cells; the guarantee is that no hidden count
can be derived exactly from the published totals.

The work is done in DuckDB on a long table of cells (one row per unit x month x count), a few set-based statements
per round, so it scales with the warehouse rather than with Python loops.
"""

from dataclasses import dataclass, field

import duckdb

from pipelines.lib.sql import one, scalar

THRESHOLD = 5

# Counts of persons or families: the cells that are suppressed.
PERSON_COUNTS = (
    "jml_pus", "pa_total", "pa_mkjp", "non_kb_unmet", "ikut_bkb", "kel_balita", "ikut_bkr", "kel_remaja",
    "ikut_bkl", "kel_lansia", "ikut_uppka", "jml_keluarga", "ikut_pikr", "jml_remaja",
    "s", "k", "d", "n", "bgm", "balita_diukur_tb", "pendek", "sangat_pendek",
    "anak_diukur", "anak_pendek", "anak_sangat_pendek", "keluarga", "keluarga_sasaran", "keluarga_krs",
)  # fmt: skip

# Percentage -> the counts it is computed from (mirrors dbt_project/macros/rpt_wilayah.sql).
RATES = {
    "cpr": ("pa_total", "jml_pus"),
    "mkjp": ("pa_mkjp", "pa_total"),
    "unmet_need": ("non_kb_unmet", "jml_pus"),
    "partisipasi_bkb": ("ikut_bkb", "kel_balita"),
    "partisipasi_bkr": ("ikut_bkr", "kel_remaja"),
    "partisipasi_bkl": ("ikut_bkl", "kel_lansia"),
    "partisipasi_uppka": ("ikut_uppka", "jml_keluarga"),
    "partisipasi_pikr": ("ikut_pikr", "jml_remaja"),
    "k_s": ("k", "s"),
    "d_s": ("d", "s"),
    "d_k": ("d", "k"),
    "n_d": ("n", "d"),
    "bgm_d": ("bgm", "d"),
    "stunting_skdn": ("pendek", "sangat_pendek", "balita_diukur_tb"),
    "stunting": ("anak_pendek", "anak_sangat_pendek", "anak_diukur"),
    "krs_rate": ("keluarga_krs", "keluarga_sasaran"),
}

# Columns that are neither person counts nor percentages of them: counts of units, unit-based rates, scores.
UNIT_COLUMNS = frozenset({
    "jumlah_kampung_kb_aktif", "jumlah_laporan", "jumlah_tepat_waktu", "jumlah_posyandu_lapor",
    "kampung_kb_dasar", "kampung_kb_berkembang", "kampung_kb_mandiri", "kampung_kb_berkelanjutan",
    "jumlah_kecamatan", "kecamatan_dengan_kampung_kb", "jumlah_desa", "desa_dengan_kampung_kb", "jumlah_instansi",
    "kelengkapan_laporan", "ketepatan_waktu", "cakupan_kecamatan", "cakupan_desa",
    "skor_input", "skor_proses", "skor_output", "tahun", "bulan", "periode_key",
})  # fmt: skip

COPIED_PREFIX = "desa_"
SUPPRESSED_LIST_COLUMN = "kolom_disensor"


@dataclass(frozen=True)
class Level:
    """One reporting mart in the additive hierarchy: its unit code and the code of the unit it adds up into."""

    table: str
    key: str
    parent_key: str | None
    copies_desa: bool = False  # has `desa_<column>` columns: the figures of its desa, published as the desa's are


HIERARCHY = (
    Level("rpt_provinsi_bulanan", "kode_prov", None),
    Level("rpt_kabupaten_bulanan", "kode_kab", "kode_prov"),
    Level("rpt_kecamatan_bulanan", "kode_kec", "kode_kab"),
    Level("rpt_desa_bulanan", "kode_desa", "kode_kec"),
    Level("rpt_kampung_kb_bulanan", "kampung_kb_id", "kode_desa", copies_desa=True),
)
DESA = "rpt_desa_bulanan"


@dataclass
class SuppressionReport:
    cells: int = 0
    primary: int = 0
    complementary: int = 0
    rounds: int = 0
    per_table: dict[str, dict[str, int]] = field(default_factory=dict)


class DisclosureSpecError(RuntimeError):
    """A reporting mart has a column this module does not know how to publish safely."""


def classify_columns(level: "Level", columns: list[str]) -> dict[str, list[str]]:
    """Sort a mart's columns into counts / rates / copied / other; refuses a numeric column it cannot place."""
    out: dict[str, list[str]] = {"counts": [], "rates": [], "copied": [], "other": []}
    for c in columns:
        if c in PERSON_COUNTS:
            out["counts"].append(c)
        elif c in RATES:
            out["rates"].append(c)
        elif c.startswith(COPIED_PREFIX) and level.copies_desa:
            out["copied"].append(c)
        else:
            out["other"].append(c)
    for rate in out["rates"]:
        missing = [c for c in RATES[rate] if c not in out["counts"]]
        if missing:
            raise DisclosureSpecError(
                f"{level.table}.{rate} is a percentage of {', '.join(missing)}, which the mart does not carry: add the "
                "count(s) to the model so the suppression can see them"
            )
    return out


def check_numeric_columns_are_classified(level: "Level", numeric_columns: list[str]) -> None:
    """Every numeric column of a mart must be a known person count, percentage, unit count or desa copy."""
    unknown = [
        c
        for c in numeric_columns
        if c not in PERSON_COUNTS
        and c not in RATES
        and c not in UNIT_COLUMNS
        and c not in (level.key, level.parent_key)
        and not (c.startswith(COPIED_PREFIX) and level.copies_desa)
    ]
    if unknown:
        raise DisclosureSpecError(
            f"{level.table} has numeric column(s) {', '.join(unknown)} that pipelines/lib/disclosure.py does not "
            "classify: add each to PERSON_COUNTS (suppressed), RATES (with its counts) or UNIT_COLUMNS"
        )


def _numeric_columns(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[list[str], list[str]]:
    desc = con.execute(f"describe {relation}").fetchall()
    numeric = ("BIGINT", "INTEGER", "HUGEINT", "DOUBLE", "FLOAT", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER")
    columns = [r[0] for r in desc]
    return columns, [r[0] for r in desc if r[1] in numeric or str(r[1]).startswith("DECIMAL")]


def suppress(
    con: duckdb.DuckDBPyConnection, source_schema: str, target_schema: str, threshold: int = THRESHOLD
) -> SuppressionReport:
    """Write the suppressed copy of every reporting mart of HIERARCHY from source_schema into target_schema.

    `source_schema` and `target_schema` are qualified names usable in this connection (e.g. `wh.main`, `main`).
    """
    report = SuppressionReport()
    specs = {}
    for i, level in enumerate(HIERARCHY):
        columns, numeric = _numeric_columns(con, f"{source_schema}.{level.table}")
        check_numeric_columns_are_classified(level, numeric)
        specs[level.table] = (i, level, columns, classify_columns(level, columns))

    parts = []
    for i, level, _, cls in specs.values():
        if not cls["counts"]:
            continue
        counts = ", ".join(f'cast("{c}" as bigint) as "{c}"' for c in cls["counts"])
        parent = f"cast({level.parent_key} as varchar)" if level.parent_key else "cast(null as varchar)"
        parts.append(
            f"""select {i} as tingkat, kode, induk, periode_key, kolom, nilai from (
                    unpivot (select cast({level.key} as varchar) as kode, {parent} as induk, periode_key, {counts}
                             from {source_schema}.{level.table})
                    on {", ".join(f'"{c}"' for c in cls["counts"])} into name kolom value nilai)"""
        )
    con.execute(
        f"""create or replace temp table _sel as
            select *, coalesce(nilai between 1 and {threshold - 1}, false) as disensor,
                   case when nilai between 1 and {threshold - 1} then 'primer' end as alasan
            from ({" union all ".join(parts)})"""
    )
    report.cells, report.primary = one(con.execute("select count(*), count(*) filter (where disensor) from _sel"))

    while True:
        report.rounds += 1
        # every sum (a parent cell and the cells of its children) with exactly one hidden cell
        con.execute(
            """create or replace temp table _tambahan as
               with anak as (
                   select tingkat - 1 as tingkat_induk, induk, periode_key, kolom,
                          count(*) filter (where disensor) as n_disensor,
                          arg_min(kode, (nilai, kode)) filter (where not disensor and nilai > 0) as calon
                   from _sel where induk is not null
                   group by all
               )
               select distinct
                   case when anak.calon is not null then anak.tingkat_induk + 1 else anak.tingkat_induk end as tingkat,
                   coalesce(anak.calon, anak.induk) as kode, anak.periode_key, anak.kolom
               from anak
               inner join _sel as p
                   on p.tingkat = anak.tingkat_induk and p.kode = anak.induk
                   and p.periode_key = anak.periode_key and p.kolom = anak.kolom
               where anak.n_disensor + cast(p.disensor as int) = 1"""
        )
        added = scalar(con.execute("select count(*) from _tambahan"))
        if not added:
            break
        con.execute(
            """update _sel set disensor = true, alasan = 'komplementer'
               from _tambahan as t
               where _sel.tingkat = t.tingkat and _sel.kode = t.kode
                 and _sel.periode_key = t.periode_key and _sel.kolom = t.kolom and not _sel.disensor"""
        )
        report.complementary += added

    con.execute(
        """create or replace temp table _sel_baris as
           select tingkat, kode, periode_key, list(kolom order by kolom) as kolom_disensor
           from _sel where disensor group by all"""
    )
    for i, level, columns, cls in specs.values():  # the desa mart comes before the Kampung KB mart that copies it
        _write_suppressed(con, source_schema, target_schema, i, level, columns, cls)
        hidden = one(
            con.execute(
                f"select count(*) filter (where disensor), count(*) filter (where alasan = 'primer') "
                f"from _sel where tingkat = {i}"
            )
        )
        report.per_table[level.table] = {"cells_hidden": hidden[0], "primary": hidden[1]}
    return report


def _write_suppressed(con, source_schema, target_schema, i, level, columns, cls) -> None:
    published: dict[str, str] = {}
    for c in columns:
        if c in cls["counts"]:
            published[c] = f"case when list_contains(f.kolom_disensor, '{c}') then null else t.\"{c}\" end"
        elif c in cls["rates"]:
            inputs = ", ".join(f"'{x}'" for x in RATES[c])
            published[c] = f'case when list_has_any(f.kolom_disensor, [{inputs}]) then null else t."{c}" end'
        elif c in cls["copied"]:
            published[c] = f'd."{c.removeprefix(COPIED_PREFIX)}"'
        else:
            published[c] = f't."{c}"'
    guarded = cls["counts"] + cls["rates"] + cls["copied"]
    flags = ", ".join(f"case when ({published[c]}) is null and t.\"{c}\" is not null then '{c}' end" for c in guarded)
    hidden = f"nullif(array_to_string(list_filter([{flags}], x -> x is not null), ', '), '')" if guarded else "null"
    join_desa = ""
    if cls["copied"]:
        join_desa = (
            f"left join {target_schema}.{DESA} as d on d.kode_desa = t.kode_desa and d.periode_key = t.periode_key"
        )
    select = ", ".join(f'{expr} as "{c}"' for c, expr in published.items())
    con.execute(
        f"""create or replace table {target_schema}.{level.table} as
            select {select}, cast({hidden} as varchar) as {SUPPRESSED_LIST_COLUMN}
            from {source_schema}.{level.table} as t
            left join _sel_baris as f
                on f.tingkat = {i} and f.kode = cast(t.{level.key} as varchar) and f.periode_key = t.periode_key
            {join_desa}
            order by t.{level.key}, t.periode_key"""
    )


def audit(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    """Check published marts from what they show alone: no visible person count from 1 to THRESHOLD - 1, and no
    sum (parent cell + its children) with exactly one hidden cell. Returns readable violations (empty: safe)."""
    violations: list[str] = []
    parts = []
    for i, level in enumerate(HIERARCHY):
        columns = [r[0] for r in con.execute(f"describe {schema}.{level.table}").fetchall()]
        counts = [c for c in columns if c in PERSON_COUNTS]
        if not counts:
            continue
        for c in counts:
            n = scalar(
                con.execute(f'select count(*) from {schema}.{level.table} where "{c}" between 1 and {THRESHOLD - 1}')
            )
            if n:
                violations.append(f"{level.table}.{c}: {n} visible count(s) below {THRESHOLD}")
        parent = f"cast({level.parent_key} as varchar)" if level.parent_key else "cast(null as varchar)"
        parts.append(
            f"""select {i} as tingkat, cast({level.key} as varchar) as kode, {parent} as induk, periode_key,
                       kolom, list_contains(string_split(coalesce({SUPPRESSED_LIST_COLUMN}, ''), ', '), kolom)
                       as disensor
                from {schema}.{level.table}, unnest([{", ".join(f"'{c}'" for c in counts)}]) as u(kolom)"""
        )
    rows = con.execute(
        f"""with sel as ({" union all ".join(parts)}),
            anak as (
                select tingkat - 1 as tingkat_induk, induk, periode_key, kolom,
                       count(*) filter (where disensor) as n_disensor
                from sel where induk is not null group by all
            )
            select p.tingkat, p.kode, p.periode_key, p.kolom
            from anak inner join sel as p
                on p.tingkat = anak.tingkat_induk and p.kode = anak.induk
                and p.periode_key = anak.periode_key and p.kolom = anak.kolom
            where anak.n_disensor + cast(p.disensor as int) = 1
            order by all limit 20"""
    ).fetchall()
    for tingkat, kode, periode, kolom in rows:
        violations.append(
            f"{HIERARCHY[tingkat].table} {kode} {periode} {kolom}: exactly one hidden cell in its sum (derivable)"
        )
    return violations
