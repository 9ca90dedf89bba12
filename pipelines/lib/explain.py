"""Explain a published number: which submissions entered an indicator of a reporting mart, which expected units were
left out and why, and which submissions were superseded, down to the delivered file and row.

Everything is read from the warehouse the marts were built in (the fact tables keep each row's lineage, see
dbt_project/macros/latest_submission.sql), plus the quarantine folder and the ingestion manifest. A contribution is
one fact row (a Kampung KB report, a posyandu's SKDN recap) or, for person-level sources (child measurements, PK
families), the rows of one posyandu or desa from one file, summed: an explanation never shows a person's row.
The contributions' numerators and denominators add up to the published ones, and the explanation checks that it does.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines.lib import duck


class ExplainError(ValueError):
    """The question cannot be answered as asked (unknown mart, indicator, unit or month); the message says why."""


@dataclass(frozen=True)
class Level:
    name: str  # prov, kab, kec, desa, kampung_kb
    code: str  # the mart's unit column
    label: str


LEVELS = {
    "rpt_provinsi_bulanan": Level("prov", "kode_prov", "provinsi"),
    "rpt_kabupaten_bulanan": Level("kab", "kode_kab", "kabupaten/kota"),
    "rpt_kecamatan_bulanan": Level("kec", "kode_kec", "kecamatan"),
    "rpt_desa_bulanan": Level("desa", "kode_desa", "desa/kelurahan"),
    "rpt_kampung_kb_bulanan": Level("kampung_kb", "kampung_kb_id", "Kampung KB"),
}
NAME_COLUMN = {"prov": "nama_prov", "kab": "nama_kab", "kec": "nama_kec", "desa": "nama_desa"}


@dataclass(frozen=True)
class Indicator:
    label: str
    formula: str  # as DOMAIN.md section 4 writes it
    source: str  # key of SOURCES
    numerator: tuple[str, ...]  # additive columns, summed (mart columns and contribution columns alike)
    denominator: str


INDICATORS: dict[str, Indicator] = {
    "cpr": Indicator("CPR", "sum(pa_*) / jml_pus x 100", "laporan", ("pa_total",), "jml_pus"),
    "mkjp": Indicator(
        "MKJP share", "(pa_iud + pa_mow + pa_mop + pa_implan) / sum(pa_*) x 100", "laporan", ("pa_mkjp",), "pa_total"
    ),
    "unmet_need": Indicator(
        "Unmet need", "(non_kb_iat + non_kb_tial) / jml_pus x 100", "laporan", ("non_kb_unmet",), "jml_pus"
    ),
    "partisipasi_bkb": Indicator(
        "BKB participation", "ikut_bkb / kel_balita x 100", "laporan", ("ikut_bkb",), "kel_balita"
    ),
    "partisipasi_bkr": Indicator(
        "BKR participation", "ikut_bkr / kel_remaja x 100", "laporan", ("ikut_bkr",), "kel_remaja"
    ),
    "partisipasi_bkl": Indicator(
        "BKL participation", "ikut_bkl / kel_lansia x 100", "laporan", ("ikut_bkl",), "kel_lansia"
    ),
    "partisipasi_uppka": Indicator(
        "UPPKA participation", "ikut_uppka / jml_keluarga x 100", "laporan", ("ikut_uppka",), "jml_keluarga"
    ),
    "partisipasi_pikr": Indicator(
        "PIK-R participation", "ikut_pikr / jml_remaja x 100", "laporan", ("ikut_pikr",), "jml_remaja"
    ),
    "kelengkapan_laporan": Indicator(
        "Reporting completeness",
        "Kampung KB reports received / active Kampung KB x 100",
        "kampung_kb",
        ("jumlah_laporan",),
        "jumlah_kampung_kb_aktif",
    ),
    "ketepatan_waktu": Indicator(
        "On-time reporting",
        "reports received by the 3rd / reports received x 100",
        "laporan",
        ("jumlah_tepat_waktu",),
        "jumlah_laporan",
    ),
    "k_s": Indicator("K/S", "K / S x 100", "skdn", ("k",), "s"),
    "d_s": Indicator("D/S", "D / S x 100", "skdn", ("d",), "s"),
    "d_k": Indicator("D/K", "D / K x 100", "skdn", ("d",), "k"),
    "n_d": Indicator("N/D", "N / D x 100", "skdn", ("n",), "d"),
    "bgm_d": Indicator("BGM/D", "BGM / D x 100", "skdn", ("bgm",), "d"),
    "stunting_skdn": Indicator(
        "Stunting (SKDN recap)",
        "(pendek + sangat_pendek) / balita_diukur_tb x 100",
        "skdn",
        ("pendek", "sangat_pendek"),
        "balita_diukur_tb",
    ),
    "stunting": Indicator(
        "Stunting (e-PPGBM measurements)",
        "(pendek + sangat_pendek) / children measured x 100",
        "pengukuran",
        ("anak_pendek", "anak_sangat_pendek"),
        "anak_diukur",
    ),
    "krs_rate": Indicator(
        "KRS rate",
        "krs families / target families x 100, PK round of the year",
        "keluarga",
        ("keluarga_krs",),
        "keluarga_sasaran",
    ),
    "cakupan_kecamatan": Indicator(
        "Kecamatan with a Kampung KB",
        "kecamatan with >= 1 active Kampung KB / kecamatan x 100",
        "kecamatan",
        ("kecamatan_dengan_kampung_kb",),
        "jumlah_kecamatan",
    ),
    "cakupan_desa": Indicator(
        "Desa with a Kampung KB",
        "desa with an active Kampung KB / all desa+kel x 100",
        "desa",
        ("desa_dengan_kampung_kb",),
        "jumlah_desa",
    ),
}
# rpt_kampung_kb_bulanan: the figures of the Kampung KB's own desa, explained at desa level
DESA_OF_KAMPUNG_KB = {
    "desa_d_s": "d_s",
    "desa_n_d": "n_d",
    "desa_stunting_skdn": "stunting_skdn",
    "desa_stunting": "stunting",
    "desa_krs_rate": "krs_rate",
}
# columns of the marts that are not ratios of sums and are not explained here (said so when asked)
NOT_EXPLAINED = {
    "skor_input": "a class score (mean of the 1-4 scores of its variables): see fct_kampung_kb_klasifikasi, which "
    "keeps every variable's score",
}
NOT_EXPLAINED |= {"skor_proses": NOT_EXPLAINED["skor_input"], "skor_output": NOT_EXPLAINED["skor_input"]}
KAMPUNG_KB_OWN = [k for k, i in INDICATORS.items() if i.source == "laporan" and k != "ketepatan_waktu"]


@dataclass(frozen=True)
class Source:
    unit: str  # what one contribution is
    entity: str  # the landing entity its rows come from
    expected: str | None  # what a missing unit is, when the source has an expected list
    personal: bool  # person-level rows: contributions are sums per posyandu/desa and file


SOURCES = {
    "laporan": Source("Kampung KB report", "kkbpk_bulanan", "active Kampung KB", False),
    "kampung_kb": Source("active or reporting Kampung KB", "kkbpk_bulanan", "active Kampung KB", False),
    "skdn": Source("posyandu SKDN recap", "skdn", "posyandu of the master list", False),
    "pengukuran": Source("posyandu's children measured, per file", "eppgbm", None, True),
    "keluarga": Source("desa's PK families, per file", "pk_keluarga", None, True),
    "desa": Source("desa/kelurahan", "profil_kampung_kb", None, False),
    "kecamatan": Source("kecamatan", "profil_kampung_kb", None, False),
}

LINEAGE = [
    "_file", "_file_sha256", "_row", "_batch", "superseded_submissions", "supersedes_file", "supersedes_row",
    "_sheet", "supersedes_sheet",
]  # fmt: skip
WILAYAH = "w.kode_desa, w.nama_desa, w.kode_kec, w.nama_kec, w.kode_kab, w.nama_kab, w.kode_prov, w.nama_prov"


# --- the contributions of each source: one query per source and unit asked about ---


def _contributions_sql(source: str, scope: str) -> str:
    """The contributions of the month ($periode) to the unit ($kode): scope is the condition on the unit, over the
    region `w` (dim_wilayah) or the Kampung KB id (`kampung_kb_id`), see _scope."""
    lineage = ", ".join(f"f.{c}" for c in LINEAGE)
    if source == "laporan":
        return f"""
            select cast(f.kampung_kb_id as varchar) as unit_id, k.nama_kampung as unit_nama, f.kampung_kb_id, {WILAYAH},
                1 as jumlah_laporan, case when f.is_tepat_waktu then 1 else 0 end as jumlah_tepat_waktu,
                f.jml_pus, f.pa_total, f.pa_mkjp, f.non_kb_unmet, f.ikut_bkb, f.kel_balita, f.ikut_bkr, f.kel_remaja,
                f.ikut_bkl, f.kel_lansia, f.ikut_uppka, f.jml_keluarga, f.ikut_pikr, f.jml_remaja,
                f.tanggal_lapor, 1 as rows, {lineage}
            from fct_kkbpk_bulanan f
            join dim_wilayah w on f.kode_desa = w.kode_desa
            left join dim_kampung_kb k on f.kampung_kb_key = k.kampung_kb_key
            where f.periode_key = $periode and {scope.replace("kampung_kb_id", "f.kampung_kb_id")}"""
    if source == "kampung_kb":
        # an active Kampung KB counts in its version's desa, a report in the report's desa (as the marts count)
        return f"""
            with parts as (
                select kampung_kb_id, kode_desa, 1 as jumlah_kampung_kb_aktif, 0 as jumlah_laporan,
                    null::varchar as _file, null::varchar as _file_sha256, null::integer as _row,
                    null::varchar as _batch,
                    null::bigint as superseded_submissions, null::varchar as supersedes_file,
                    null::integer as supersedes_row, null::varchar as _sheet, null::varchar as supersedes_sheet
                from int_kampung_kb__aktif_bulanan where periode_key = $periode
                union all
                select kampung_kb_id, kode_desa, 0, 1, {", ".join(LINEAGE)}
                from fct_kkbpk_bulanan where periode_key = $periode
            )
            select cast(p.kampung_kb_id as varchar) as unit_id, any_value(k.nama_kampung) as unit_nama,
                p.kampung_kb_id, {WILAYAH},
                sum(p.jumlah_kampung_kb_aktif) as jumlah_kampung_kb_aktif, sum(p.jumlah_laporan) as jumlah_laporan,
                sum(p.jumlah_laporan) as rows, {", ".join(f"max(p.{c}) as {c}" for c in LINEAGE)}
            from parts p
            join dim_wilayah w on p.kode_desa = w.kode_desa
            left join dim_kampung_kb k on p.kampung_kb_id = k.kampung_kb_id and k.is_current
            where {scope.replace("kampung_kb_id", "p.kampung_kb_id")}
            group by all"""
    if source == "skdn":
        return f"""
            select f.kode_posyandu as unit_id, p.nama_posyandu as unit_nama, {WILAYAH},
                1 as jumlah_posyandu_lapor, f.s, f.k, f.d, f.n, f.bgm, f.balita_diukur_tb, f.pendek, f.sangat_pendek,
                1 as rows, {lineage}
            from fct_posyandu_bulanan f
            join dim_wilayah w on f.kode_desa = w.kode_desa
            left join dim_posyandu p on f.kode_posyandu = p.kode_posyandu
            where f.periode_key = $periode and {scope}"""
    if source == "pengukuran":
        return f"""
            select f.kode_posyandu as unit_id, any_value(p.nama_posyandu) as unit_nama, {WILAYAH},
                count(*) as anak_diukur, sum(case when f.is_pendek then 1 else 0 end) as anak_pendek,
                sum(case when f.is_sangat_pendek then 1 else 0 end) as anak_sangat_pendek,
                count(*) as rows, f._file, any_value(f._file_sha256) as _file_sha256, min(f._row) as _row,
                max(f._row) as last_row, string_agg(distinct f._batch, ', ') as _batch,
                sum(case when f.superseded_submissions > 0 then 1 else 0 end) as superseded_submissions
            from fct_pengukuran_balita f
            join dim_wilayah w on f.kode_desa = w.kode_desa
            left join dim_posyandu p on f.kode_posyandu = p.kode_posyandu
            where f.periode_key = $periode and {scope}
            group by f.kode_posyandu, {WILAYAH}, f._file"""
    if source == "keluarga":
        return f"""
            select w.kode_desa as unit_id, w.nama_desa as unit_nama, {WILAYAH},
                count(*) as keluarga, sum(case when f.is_sasaran then 1 else 0 end) as keluarga_sasaran,
                sum(case when f.is_sasaran and f.krs = 1 then 1 else 0 end) as keluarga_krs,
                count(*) as rows, f._file, any_value(f._file_sha256) as _file_sha256, min(f._row) as _row,
                max(f._row) as last_row, string_agg(distinct f._batch, ', ') as _batch,
                sum(case when f.superseded_submissions > 0 then 1 else 0 end) as superseded_submissions
            from fct_keluarga_pendataan f
            join dim_wilayah w on f.kode_desa = w.kode_desa
            where f.tahun_pendataan = $periode // 100 and {scope}
            group by {WILAYAH}, f._file"""
    if source == "desa":
        aktif = """
            select i.kode_desa, i.jumlah_kampung_kb_aktif, a.kampung_kb
            from int_indikator__desa_bulanan i
            left join (
                select kode_desa, string_agg(cast(kampung_kb_id as varchar), ', ' order by kampung_kb_id) as kampung_kb
                from int_kampung_kb__aktif_bulanan where periode_key = $periode group by kode_desa
            ) a on i.kode_desa = a.kode_desa
            where i.periode_key = $periode"""
        return f"""
                select w.kode_desa as unit_id, w.nama_desa as unit_nama, {WILAYAH}, 1 as jumlah_desa,
                    case when i.jumlah_kampung_kb_aktif > 0 then 1 else 0 end as desa_dengan_kampung_kb,
                    i.kampung_kb, 1 as rows
                from ({aktif}) i join dim_wilayah w on i.kode_desa = w.kode_desa
                where {scope}"""
    raise ExplainError(f"unknown source {source!r}")


# --- what a delivered file is about, from its path: the names the sources give their files (workbooks per Kampung KB,
# exports per kabupaten/kota or province and month or year; see pipelines/synth/generate.py) ---


@dataclass(frozen=True)
class FileScope:
    kampung_kb_id: int | None = None
    wilayah: str | None = None  # digits of the region code the file covers (2 provinsi, 4 kabupaten/kota)
    periode_key: int | None = None  # yyyymm, or yyyy for a yearly file
    yearly: bool = False


_KKB_FILE = re.compile(r"Laporan_KKB_(\d+)_(\d{4})(\d{2})", re.IGNORECASE)
_REGION_FILE = re.compile(r"_(\d{2}|\d{4})_(\d{4})(\d{2})?(?=[_.\s(]|$)")
_KAB_FOLDER = re.compile(r"/(\d{2})\.(\d{2})/")


def file_scope(path: str) -> FileScope:
    """Which Kampung KB, region and period a delivered file is about, as far as its name and folder say."""
    name = path.rsplit("/", 1)[-1]
    if m := _KKB_FILE.search(name):
        return FileScope(int(m[1]), _folder_kab(path), int(m[2]) * 100 + int(m[3]))
    if m := _REGION_FILE.search(name):
        wilayah = m[1] if not (f := _folder_kab(path)) or f.startswith(m[1]) else f
        if m[3]:
            return FileScope(None, wilayah, int(m[2]) * 100 + int(m[3]))
        return FileScope(None, wilayah, int(m[2]), yearly=True)
    return FileScope(None, _folder_kab(path), None)


def _folder_kab(path: str) -> str | None:
    m = _KAB_FOLDER.search("/" + path)
    return m[1] + m[2] if m else None


def _file_in_scope(scope: FileScope, region: str | None, periode: int, kkb_ids: set[int]) -> bool:
    """The file may hold rows of the region (digits) and month: its period and area agree or are unknown."""
    if scope.periode_key is not None:
        if scope.yearly and scope.periode_key != periode // 100:
            return False
        if not scope.yearly and scope.periode_key != periode:
            return False
    if scope.kampung_kb_id is not None and kkb_ids:
        return scope.kampung_kb_id in kkb_ids
    if region and scope.wilayah:
        return scope.wilayah.startswith(region) or region.startswith(scope.wilayah)
    return True


# --- quarantined rows: the record as sent, its unit, desa and month where readable ---

_QUARANTINE_FIELDS = {
    # entity: (unit key expression, desa digits expression, period expression) over `r` (the record JSON)
    "kkbpk_bulanan": (
        "r->>'kampung_kb_id'",
        "regexp_replace(coalesce(r->>'kode_desa', ''), '[^0-9]', '', 'g')",
        "try_cast(r->>'tahun' as integer) * 100 + try_cast(r->>'bulan' as integer)",
    ),
    "skdn": (
        "r->>'kode_posyandu'",
        "left(regexp_replace(coalesce(r->>'kode_posyandu', ''), '[^0-9]', '', 'g'), 10)",
        "try_cast(r->>'tahun' as integer) * 100 + try_cast(r->>'bulan' as integer)",
    ),
    "eppgbm": (
        "r->>'kode_posyandu'",
        "left(regexp_replace(coalesce(r->>'kode_posyandu', ''), '[^0-9]', '', 'g'), 10)",
        "cast(strftime(coalesce(try_strptime(r->>'tanggal_ukur', '%Y-%m-%d'), try_strptime(r->>'tanggal_ukur', "
        "'%d/%m/%Y')), '%Y%m') as integer)",
    ),
    "pk_keluarga": (
        "r->>'kode_desa'",
        "regexp_replace(coalesce(r->>'kode_desa', ''), '[^0-9]', '', 'g')",
        "try_cast(r->>'tahun_pendataan' as integer)",  # a PK round is a year
    ),
}


def _quarantine(
    con: duckdb.DuckDBPyConnection, quarantine_dir: Path, entity: str, periode: int, region: str | None
) -> pd.DataFrame:
    """The entity's quarantined rows of the period (yyyymm; yyyy for a PK round) whose desa is in the region (digits;
    None: anywhere). Rows whose month cannot be read from the record take the month of their file's name."""
    files = [str(p) for p in sorted((quarantine_dir / entity).glob("*/**/*.parquet")) if "_schema" not in p.parts]
    cols = ["unit_id", "desa_digits", "periode_key", "_file", "_row", "_batch", "reasons", "failed_rules"]
    if not files or entity not in _QUARANTINE_FIELDS:
        return pd.DataFrame(columns=cols)
    unit, desa, period = _QUARANTINE_FIELDS[entity]
    # the Kampung KB reports are matched on their kampung_kb_id too (a report with a wrong kode_desa): no region filter
    in_region = "" if entity == "kkbpk_bulanan" or not region else "and starts_with(desa_digits, $region)"
    out = con.execute(
        f"""select * from (
                select {unit} as unit_id, {desa} as desa_digits, {period} as periode_key, _file, _row, _batch, reasons,
                    failed_rules
                from (select *, cast(record as json) as r from read_parquet($files, union_by_name = true)))
            where (periode_key = $periode or periode_key is null) {in_region}""",
        {"files": files, "periode": periode} | ({"region": region} if in_region else {}),
    ).df()
    missing = out["periode_key"].isna()
    if missing.any():
        scopes = [file_scope(f) for f in out.loc[missing, "_file"]]
        out.loc[missing, "periode_key"] = [
            (s.periode_key if s.yearly or entity != "pk_keluarga" else s.periode_key // 100) if s.periode_key else None
            for s in scopes
        ]
    return out[out["periode_key"] == periode]


# --- the explanation ---


@dataclass
class Explanation:
    mart: str
    level: str
    kode: str
    nama: str | None
    periode: str
    indikator: str
    label: str
    formula: str
    value: float | None
    numerator: int
    denominator: int
    numerator_columns: list[str]
    denominator_column: str
    contribution_unit: str
    contributions: list[dict[str, Any]]
    expected: int | None
    left_out: list[dict[str, Any]]
    quarantined_other: list[dict[str, Any]]
    rejected_files: list[dict[str, Any]]
    superseded: list[dict[str, Any]]
    sums_match: bool
    value_matches: bool
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def periode_key(periode: str) -> int:
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", periode.strip())
    if not m or not 1 <= int(m[2]) <= 12:
        raise ExplainError(f"--periode {periode!r} is not a month like 2024-03")
    return int(m[1]) * 100 + int(m[2])


def percent(numerator: int, denominator: int) -> float | None:
    """As the marts compute it (macros/indikator.sql): double division, NULL when the denominator is 0."""
    return None if not denominator else float(numerator) / float(denominator) * 100


def indicators_of(mart: str) -> list[str]:
    if mart == "rpt_kampung_kb_bulanan":
        return [*KAMPUNG_KB_OWN, *DESA_OF_KAMPUNG_KB]
    return list(INDICATORS)


def explain(duckdb_path: Path, quarantine_dir: Path, mart: str, kode: str, periode: str, indikator: str) -> Explanation:
    """The explanation of one published value: mart row (kode, periode), column indikator."""
    if mart not in LEVELS:
        raise ExplainError(f"unknown reporting mart {mart!r}; one of: {', '.join(LEVELS)}")
    if indikator in NOT_EXPLAINED and mart == "rpt_kampung_kb_bulanan":
        raise ExplainError(f"{indikator} is not explained by kkb explain: it is {NOT_EXPLAINED[indikator]}")
    if indikator not in indicators_of(mart):
        raise ExplainError(f"{mart} has no indicator {indikator!r}; one of: {', '.join(indicators_of(mart))}")
    key = periode_key(periode)
    with connect(duckdb_path) as con:
        try:
            return _explain(con, quarantine_dir, mart, kode.strip(), key, indikator)
        except duckdb.CatalogException as exc:
            raise ExplainError(
                f"the warehouse is not fully built ({str(exc).splitlines()[0]}): run the pipeline first (make run)"
            ) from exc


def explain_with(
    con: duckdb.DuckDBPyConnection,
    quarantine_dir: Path,
    mart: str,
    kode: str,
    key: int,
    indikator: str,
    memo: dict | None = None,
) -> Explanation:
    """explain() on an open (read-only) connection to the warehouse, for many explanations in a row; pass the same
    dict as memo to read what the indicators of one source share once (the warehouse must not change meanwhile)."""
    return _explain(con, quarantine_dir, mart, kode, key, indikator, memo)


def connect(duckdb_path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse; a clear error when there is none or a run is writing it."""
    if not duckdb_path.exists():
        raise ExplainError(f"no warehouse at {duckdb_path}: run the pipeline first (make run)")
    try:
        return duck.connect(str(duckdb_path), read_only=True)
    except duckdb.IOException as exc:
        raise ExplainError(
            f"the warehouse is being written by a run ({exc}); ask again when the run has finished"
        ) from exc


def _published(con, mart: str, level: Level, kode: str, key: int) -> dict[str, Any]:
    code_value: Any = kode
    if level.name == "kampung_kb":
        if not kode.isdigit():
            raise ExplainError(f"--kode for {mart} is a kampung_kb_id (digits), not {kode!r}")
        code_value = int(kode)
    rows = con.execute(f'select * from "{mart}" where {level.code} = ? and periode_key = ?', [code_value, key]).df()
    if rows.empty:
        known = con.execute(f'select count(*) from "{mart}" where {level.code} = ?', [code_value]).fetchone()[0]
        months = con.execute(f'select min(periode_key), max(periode_key) from "{mart}"').fetchone()
        if known and level.name != "kampung_kb":
            raise ExplainError(f"{mart} has no row for {kode} in {key // 100}-{key % 100:02d}")
        if level.name == "kampung_kb" and (known or _is_kampung_kb(con, code_value)):
            raise NoRowForKampungKb(f"{mart} has no row for Kampung KB {kode} in {key // 100}-{key % 100:02d}")
        span = "nothing" if months[0] is None else f"{_month(months[0])}..{_month(months[1])}"
        raise ExplainError(f"{mart} has no {level.label} {kode!r}; months published: {span}")
    return rows.iloc[0].to_dict()


def _month(key: int) -> str:
    return f"{key // 100}-{key % 100:02d}"


class NoRowForKampungKb(ExplainError):
    pass


def _is_kampung_kb(con, kampung_kb_id: int) -> bool:
    return bool(
        con.execute("select count(*) from dim_kampung_kb where kampung_kb_id = ?", [kampung_kb_id]).fetchone()[0]
    )


def _why_no_row(con, quarantine_dir: Path, kampung_kb_id: str, key: int) -> str:
    """Why a Kampung KB has no figures in a month: the reason its desa's reporting completeness gives."""
    desa = con.execute(
        "select kode_desa from int_kampung_kb__aktif_bulanan where kampung_kb_id = ? and periode_key = ?",
        [int(kampung_kb_id), key],
    ).fetchone()
    if not desa:
        return "it was not active (or not yet launched) that month, and no report of it counted"
    e = _explain(con, quarantine_dir, "rpt_desa_bulanan", desa[0], key, "kelengkapan_laporan")
    entry = next((r for r in e.left_out if r["unit_id"] == kampung_kb_id), None)
    if entry is None:
        return "its report counts in another desa (see rpt_desa_bulanan)"
    where = f" ({entry['file']}" + (f":{entry['row']}" if entry.get("row") else "") + ")" if entry.get("file") else ""
    return f"{entry['why']}: {entry['reason']}{where}"


def _explain(
    con, quarantine_dir: Path, mart: str, kode: str, key: int, indikator: str, memo: dict | None = None
) -> Explanation:
    level = LEVELS[mart]
    try:
        row = _published(con, mart, level, kode, key)
    except NoRowForKampungKb as exc:
        raise ExplainError(f"{exc}: {_why_no_row(con, quarantine_dir, kode, key)}") from None
    if indikator in DESA_OF_KAMPUNG_KB:
        inner = _explain(
            con, quarantine_dir, "rpt_desa_bulanan", row["kode_desa"], key, DESA_OF_KAMPUNG_KB[indikator], memo
        )
        published = None if pd.isna(row[indikator]) else float(row[indikator])
        inner.mart, inner.level, inner.kode, inner.nama, inner.indikator = (
            mart,
            level.name,
            kode,
            row.get("nama_kampung"),
            indikator,
        )
        inner.value_matches = inner.value_matches and _same(inner.value, published)
        inner.value = published
        inner.notes.append(
            f"{indikator} is the figure of the Kampung KB's desa {row['kode_desa']}, explained at desa level"
        )
        return inner

    ind = INDICATORS[indikator]
    source = SOURCES[ind.source]
    # what the indicators of one source share (its contributions, what was left out, what was superseded) is read
    # once per unit and month when a memo is given
    part_key = (ind.source, level.name, kode, key)
    if memo is not None and part_key in memo:
        contrib, (left_out, quarantined_other, rejected, expected), superseded = memo[part_key]
    else:
        if ind.source == "kecamatan":  # the kecamatan among the unit's desa, as the marts count them
            contrib = _kecamatan(_query(con, "desa", level, kode, key))
        else:
            contrib = _query(con, ind.source, level, kode, key)
        left_out, quarantined_other, rejected, expected = _left_out(
            con, quarantine_dir, ind.source, source, level, kode, key, contrib
        )
        superseded = _superseded(con, ind.source, level, kode, key, contrib)
        if memo is not None:
            memo[part_key] = (contrib, (left_out, quarantined_other, rejected, expected), superseded)
    num = int(sum(contrib[c].sum() for c in ind.numerator)) if len(contrib) else 0
    den = int(contrib[ind.denominator].sum()) if len(contrib) else 0
    published_num = int(sum(row[c] for c in ind.numerator)) if all(c in row for c in ind.numerator) else num
    published_den = int(row[ind.denominator]) if ind.denominator in row else den
    published = row[indikator]
    value = None if pd.isna(published) else float(published)
    figures = [*ind.numerator, ind.denominator]
    contributions = [
        _contribution(r, figures, source.personal)
        for r in contrib.sort_values(
            ["kode_desa", "unit_id"] if "kode_desa" in contrib else ["unit_id"], na_position="last"
        ).to_dict("records")
    ]
    return Explanation(
        mart=mart,
        level=level.name,
        kode=kode,
        nama=row.get(NAME_COLUMN.get(level.name, "nama_kampung")),
        periode=f"{key // 100}-{key % 100:02d}",
        indikator=indikator,
        label=ind.label,
        formula=ind.formula,
        value=value,
        numerator=num,
        denominator=den,
        numerator_columns=list(ind.numerator),
        denominator_column=ind.denominator,
        contribution_unit=source.unit,
        contributions=contributions,
        expected=expected,
        left_out=left_out,
        quarantined_other=quarantined_other,
        rejected_files=rejected,
        superseded=superseded,
        sums_match=(num, den) == (published_num, published_den),
        value_matches=_same(percent(num, den), value),
    )


def _query(con, source: str, level: Level, kode: str, key: int) -> pd.DataFrame:
    """The source's contributions to the unit: only the unit's rows leave DuckDB."""
    value: int | str
    if level.name == "kampung_kb":
        scope, value = "kampung_kb_id = $kode", int(kode)
    else:
        scope, value = f"w.{level.code} = $kode", kode
    return con.execute(_contributions_sql(source, scope), {"periode": key, "kode": value}).df()


def _kecamatan(desa: pd.DataFrame) -> pd.DataFrame:
    keys = ["kode_kec", "nama_kec", "kode_kab", "nama_kab", "kode_prov", "nama_prov"]
    out = desa.groupby(keys, as_index=False).agg(
        kecamatan_dengan_kampung_kb=("desa_dengan_kampung_kb", "max"),
        rows=("rows", "sum"),
        kampung_kb=("kampung_kb", lambda v: ", ".join(x for x in v if isinstance(x, str)) or None),
    )
    out["jumlah_kecamatan"] = 1
    out["unit_id"], out["unit_nama"] = out["kode_kec"], out["nama_kec"]
    return out


def _same(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and a == b)


def _in_scope(df: pd.DataFrame, level: Level, kode: str) -> pd.DataFrame:
    if level.name == "kampung_kb":
        return df[df["kampung_kb_id"] == int(kode)] if "kampung_kb_id" in df else df.iloc[0:0]
    return df[df[level.code] == kode]


def _region_digits(level: Level, kode: str) -> str | None:
    if level.name == "kampung_kb":
        return None
    return kode.replace(".", "")


def _contribution(r: dict[str, Any], figures: list[str], personal: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "unit_id": r.get("unit_id"),
        "unit_nama": r.get("unit_nama"),
        "kode_desa": r.get("kode_desa"),
        "nama_desa": r.get("nama_desa"),
        "figures": {c: _int(r.get(c)) for c in figures},
        "file": r.get("_file"),
        "file_sha256": r.get("_file_sha256"),
        "row": _int(r.get("_row")),
        "sheet": r.get("_sheet"),
        "batch": r.get("_batch"),
    }
    if personal:
        out["rows"] = _int(r.get("rows"))
        out["last_row"] = _int(r.get("last_row"))
        out["rows_replacing_earlier"] = _int(r.get("superseded_submissions"))
    else:
        out["supersedes"] = (
            {"file": r.get("supersedes_file"), "sheet": r.get("supersedes_sheet"), "row": _int(r.get("supersedes_row"))}
            if isinstance(r.get("supersedes_file"), str)
            else None
        )
    if r.get("kampung_kb"):
        out["kampung_kb"] = r["kampung_kb"]
    return {k: (None if _isna(v) else v) for k, v in out.items()}


def _int(v: Any) -> int | None:
    return None if _isna(v) else int(v)


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _left_out(
    con,
    quarantine_dir: Path,
    source_name: str,
    source: Source,
    level: Level,
    kode: str,
    key: int,
    contrib: pd.DataFrame,
):
    """(left out expected units, other quarantined rows in scope, rejected files in scope, number expected)."""
    region = _region_digits(level, kode)
    q = _quarantine(con, quarantine_dir, source.entity, key // 100 if source.entity == "pk_keluarga" else key, region)
    expected_df = _expected(con, source_name, level, kode, key)
    kkb_ids = set(expected_df["kampung_kb_id"].dropna().astype(int)) if "kampung_kb_id" in expected_df else set()
    if level.name == "kampung_kb":
        kkb_ids |= {int(kode)}
        q = q[q["unit_id"].astype(str) == kode]
    elif source.entity == "kkbpk_bulanan":
        known = _kkb_desa(con, key)
        digits = q["unit_id"].map(lambda u: known.get(str(u), None))
        q = q[digits.fillna(q["desa_digits"]).astype(str).str.startswith(region or "")]
    else:
        q = q[q["desa_digits"].astype(str).str.startswith(region or "")]

    manifest = con.execute(
        "select file_path, reason, batch_id from stg_landing__manifest where entity = ? and status = 'rejected'",
        [source.entity],
    ).fetchall()
    rejected = []
    for path, reason, batch in manifest:
        fs = file_scope(path)
        if _file_in_scope(fs, region, key, kkb_ids):
            rejected.append({"file": path, "reason": reason, "batch": batch, "kampung_kb_id": fs.kampung_kb_id})

    left_out: list[dict[str, Any]] = []
    explained_q: set[tuple[str, int]] = set()
    if source.expected and not expected_df.empty:
        present = (
            set(contrib["unit_id"].astype(str))
            if source_name != "kampung_kb"
            else set(contrib.loc[contrib["jumlah_laporan"] > 0, "unit_id"].astype(str))
        )
        elsewhere = _reported_elsewhere(con, source_name, key, present)
        for r in expected_df.sort_values(["kode_desa", "unit_id"]).to_dict("records"):
            uid = str(r["unit_id"])
            if uid in present:
                continue
            entry = {
                "unit_id": uid,
                "unit_nama": r.get("unit_nama"),
                "kode_desa": r["kode_desa"],
                "nama_desa": r.get("nama_desa"),
            }
            hits = q[q["unit_id"].astype(str) == uid]
            files = [f for f in rejected if f["kampung_kb_id"] is not None and str(f["kampung_kb_id"]) == uid]
            if uid in elsewhere:
                entry |= {
                    "why": "counted elsewhere",
                    "reason": f"its report gives kode_desa {elsewhere[uid][0]}, outside this area: it counts there",
                    "file": elsewhere[uid][1],
                    "row": elsewhere[uid][2],
                }
            elif len(hits):
                h = hits.sort_values(["_batch", "_file", "_row"]).iloc[-1]
                entry |= {
                    "why": "quarantined",
                    "reason": h["reasons"],
                    "file": h["_file"],
                    "row": int(h["_row"]),
                    "batch": h["_batch"],
                }
                explained_q |= {(f, int(r_)) for f, r_ in zip(hits["_file"], hits["_row"], strict=True)}
            elif files:
                entry |= {
                    "why": "rejected file",
                    "reason": files[0]["reason"],
                    "file": files[0]["file"],
                    "batch": files[0]["batch"],
                }
            elif area := [f for f in rejected if f["kampung_kb_id"] is None]:
                entry |= {
                    "why": "rejected file",
                    "reason": f"possibly in {area[0]['file']}: {area[0]['reason']}",
                    "file": area[0]["file"],
                    "batch": area[0]["batch"],
                }
            else:
                entry |= {
                    "why": "no report",
                    "reason": "nothing received for this month (no row in landing or "
                    "quarantine, no rejected file for it)",
                }
            left_out.append({k: (None if _isna(v) else v) for k, v in entry.items()})

    other = q[
        pd.Series(
            [(f, int(r_)) not in explained_q for f, r_ in zip(q["_file"], q["_row"], strict=True)],
            index=q.index,
            dtype=bool,
        )
    ]
    if source.personal:
        grouped = other.groupby("reasons", dropna=False).agg(rows=("_row", "size"), files=("_file", "nunique"))
        quarantined_other = [
            {"reason": r, "rows": int(g["rows"]), "files": int(g["files"])}
            for r, g in grouped.sort_values("rows", ascending=False).iterrows()
        ]
    else:
        quarantined_other = [
            {
                "unit_id": None if _isna(r["unit_id"]) else str(r["unit_id"]),
                "reason": r["reasons"],
                "file": r["_file"],
                "row": int(r["_row"]),
                "batch": r["_batch"],
            }
            for r in other.sort_values(["_file", "_row"]).to_dict("records")
        ]
    expected = len(expected_df) if source.expected else None
    return left_out, quarantined_other, rejected, expected


def _reported_elsewhere(con, source_name: str, key: int, present: set[str]) -> dict[str, tuple[str, str, int]]:
    """unit -> (kode_desa, file, row) of the counted submissions of the month not among the contributions (their
    kode_desa lies outside the area asked about)."""
    sql = {
        "laporan": "select cast(kampung_kb_id as varchar), kode_desa, _file, _row from fct_kkbpk_bulanan",
        "kampung_kb": "select cast(kampung_kb_id as varchar), kode_desa, _file, _row from fct_kkbpk_bulanan",
        "skdn": "select kode_posyandu, kode_desa, _file, _row from fct_posyandu_bulanan",
    }[source_name]
    rows = con.execute(f"{sql} where periode_key = ?", [key]).fetchall()
    return {r[0]: (r[1], r[2], int(r[3])) for r in rows if r[0] not in present}


def _kkb_desa(con, key: int) -> dict[str, str]:
    """kampung_kb_id -> digits of its desa in the month: of its active version, else of its current version."""
    rows = con.execute(
        """select cast(k.kampung_kb_id as varchar), replace(coalesce(a.kode_desa, k.kode_desa), '.', '')
           from dim_kampung_kb k
           left join int_kampung_kb__aktif_bulanan a on k.kampung_kb_id = a.kampung_kb_id and a.periode_key = $p
           where k.is_current""",
        {"p": key},
    ).fetchall()
    return dict(rows)


def _expected(con, source_name: str, level: Level, kode: str, key: int) -> pd.DataFrame:
    if source_name in ("laporan", "kampung_kb"):
        df = con.execute(
            f"""select cast(a.kampung_kb_id as varchar) as unit_id, a.kampung_kb_id, k.nama_kampung as unit_nama,
                    {WILAYAH}
                from int_kampung_kb__aktif_bulanan a
                join dim_wilayah w on a.kode_desa = w.kode_desa
                left join dim_kampung_kb k on a.kampung_kb_id = k.kampung_kb_id and k.is_current
                where a.periode_key = $p""",
            {"p": key},
        ).df()
    elif source_name == "skdn":
        df = con.execute(
            f"""select p.kode_posyandu as unit_id, p.nama_posyandu as unit_nama, {WILAYAH}
                from dim_posyandu p join dim_wilayah w on p.kode_desa = w.kode_desa""",
        ).df()
    else:
        return pd.DataFrame()
    return _in_scope(df, level, kode)


def _superseded(con, source_name: str, level: Level, kode: str, key: int, contrib: pd.DataFrame) -> list[dict]:
    """Submissions that were replaced by the ones counted: every earlier report (with its figures) for the Kampung KB
    reports; the one each counted row replaced for the other sources."""
    if source_name in ("laporan", "kampung_kb"):
        ids = [int(i) for i in contrib["kampung_kb_id"].dropna().unique()] if len(contrib) else []
        if not ids:
            return []
        df = con.execute(
            """select cast(kampung_kb_id as varchar) as unit_id, kode_desa,
                   cast(tanggal_lapor as varchar) as tanggal_lapor, jml_pus,
                   pa_iud + pa_mow + pa_mop + pa_implan + pa_suntik + pa_pil + pa_kondom as pa_total,
                   _file as file, _row as "row", _batch as batch, superseded_by_file, superseded_by_row
               from stg_landing__kkbpk_bulanan_submissions
               where not is_latest and tahun * 100 + bulan = $p and list_contains($ids, kampung_kb_id)
               order by kampung_kb_id, submission_rank""",
            {"p": key, "ids": ids},
        ).df()
        return [{k: (None if _isna(v) else v) for k, v in r.items()} for r in df.to_dict("records")]
    if "supersedes_file" not in contrib:
        return []
    replaced = contrib[contrib["supersedes_file"].notna()]
    return [
        {
            "unit_id": r["unit_id"],
            "file": r["supersedes_file"],
            "row": _int(r["supersedes_row"]),
            "superseded_by_file": r["_file"],
            "superseded_by_row": _int(r["_row"]),
        }
        for r in replaced.to_dict("records")
    ]
