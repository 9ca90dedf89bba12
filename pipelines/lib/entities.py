"""What each source entity looks like: its landing folder, its columns and their types, header aliases, which
columns are personal data. The one declarative place that maps what providers send onto what we land.

Column types:
  int / float   numbers (decimal comma accepted for float; "12.0" accepted for int)
  str           text, trimmed; empty is null
  date          YYYY-MM-DD, DD/MM/YYYY, DD-MM-YYYY or an Excel serial number
  kode_wilayah  a Kemendagri code, normalised to the dotted form ("1901012001" -> "19.01.01.2001")
  pii           NIK / No. KK / family id: validated as delivered, landed only as HMAC-SHA256 (`land_as`)
  drop          personal data read (so the row lines up) and dropped at the door (names, addresses)
  list          a list-valued field: one cell of comma-separated values in CSV/XLSX, an array in JSONL; validated as
                the normalised text 'a, b, c', landed as a list of strings
  birth_date    a birth date: read and checked, then landed only as an age (`land_as`, in `age_unit` completed
                months or years at the date in column `age_at`, or at the ingestion date when `age_at` is None)
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

# Legacy words renamed by the portal over the years; applied to every header word of every entity.
LEGACY_WORDS: dict[str, str] = {"uppks": "uppka", "pik_r": "pikr", "pik": "pikr", "ingin_anak_kemudian": "iat"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = True  # must be present in the file's header, or the file is rejected
    aliases: tuple[str, ...] = ()
    land_as: str | None = None  # landing name for `pii` and `birth_date` columns
    age_at: str | None = None  # birth_date: the date column the age is computed at (None: the ingestion date)
    age_unit: str = "years"  # birth_date: "months" or "years"
    max_age: int = 110  # birth_date: the oldest plausible age (in age_unit); decides the century of a two-digit year
    nil_is_zero: bool = False  # int: a count on a printed form, where a lone dash means nil (0)
    month_names: bool = False  # int: a month, also written by name ("Maret", "Mar")
    grouping: bool = True  # float: False for a measure never written with thousands separators (kg, cm, degrees)
    # a column needed only for a derived figure: None, or where its value comes from when the file has none
    # ("received": when the file arrived, see ingest.received_dates); the row is never quarantined for lacking it
    fallback: str | None = None


@dataclass(frozen=True)
class Period:
    """Which reporting period a row belongs to: a month or a year, read from typed columns (pipelines/lib/periods.py).

    Rows are landed in one folder per period, so one month (or PK round) can be rebuilt from raw alone."""

    unit: str  # "month" | "year"
    columns: tuple[str, ...]  # (tahun, bulan) or (a date column,) for months; (tahun,) for years


MONTH_OF_REPORT = Period("month", ("tahun", "bulan"))


@dataclass(frozen=True)
class Entity:
    name: str  # landing table and Dagster asset name
    folder: str  # folder under the raw dir where providers drop files
    description: str
    columns: tuple[Column, ...]
    suite: str  # Great Expectations suite in expectations/gx/expectations/<suite>.json
    group: str  # source family: kampung_kb, posyandu, bkkbn
    chunk_rows: int = 200_000
    # the landed columns that identify one fact: a later row with the same key supersedes the earlier one downstream
    key: tuple[str, ...] = ()
    # suite parameter -> (entity, column): values of this frame's column that exist in that entity's landing
    lookups: dict[str, tuple[str, str]] = field(default_factory=dict)
    # the reporting period of a row (None: a register with no period; landed as one folder per batch)
    period: Period | None = None
    # the column whose first four digits name a row's kabupaten/kota (a delivery's region; None: no such column)
    region_column: str | None = None

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @functools.cached_property
    def header_map(self) -> dict[str, str]:
        """Normalised header (and alias) -> canonical column name (computed once: every file asks for it)."""
        out: dict[str, str] = {}
        for c in self.columns:
            out[normalise_header(c.name)] = c.name
            for a in c.aliases:
                out[normalise_header(a)] = c.name
        return out

    @property
    def landing_columns(self) -> list[tuple[str, str]]:
        """(name, type) of the landed columns, in order, personal columns removed or renamed."""
        out = []
        for c in self.columns:
            if c.type == "drop":
                continue
            if c.type == "pii":
                out.append((c.land_as or f"{c.name}_hash", "str"))
            elif c.type == "birth_date":
                out.append((c.land_as or "umur", "int"))
            else:
                out.append((c.name, c.type))
            if c.fallback:
                out.append((f"{c.name}_sumber", "str"))  # where the value came from: the file, or its arrival
        return out


_NON_WORD = re.compile(r"[^0-9a-z]+")


def plain_header(text: object) -> str:
    """'  JML PUS ' -> 'jml_pus': case, spacing and punctuation folded, words kept."""
    return _NON_WORD.sub("_", str(text).strip().lower()).strip("_")


def normalise_header(text: object) -> str:
    """plain_header, then legacy words mapped: 'Ikut UPPKS' -> 'ikut_uppka'."""
    return _normalise(str(text))


@functools.lru_cache(maxsize=8192)  # the same few hundred header cells, in every one of thousands of files
def _normalise(text: str) -> str:
    h = plain_header(text)
    for old, new in LEGACY_WORDS.items():
        h = re.sub(rf"(^|_){old}($|_)", rf"\g<1>{new}\g<2>", h)
    return h


def _counts(*names: str) -> tuple[Column, ...]:
    return tuple(Column(n, "int", nil_is_zero=True) for n in names)


BULAN = Column("bulan", "int", month_names=True)


KKBPK_COUNTS = (
    "jml_jiwa", "jml_keluarga", "jml_pus", "jml_remaja", "kel_balita", "kel_remaja", "kel_lansia",
    "pa_iud", "pa_mow", "pa_mop", "pa_implan", "pa_suntik", "pa_pil", "pa_kondom",
    "non_kb_hamil", "non_kb_ias", "non_kb_iat", "non_kb_tial",
    "ikut_bkb", "ikut_bkr", "ikut_bkl", "ikut_uppka", "ikut_pikr", "pengguna_bpjs",
)  # fmt: skip

KKBPK_BULANAN = Entity(
    region_column="kode_desa",
    name="kkbpk_bulanan",
    period=MONTH_OF_REPORT,
    key=("kampung_kb_id", "tahun", "bulan"),
    folder="kampung_kb/laporan_bulanan",
    description="Monthly KKBPK report of a Kampung KB (Pokja workbook or portal CSV export), one row per submission.",
    group="kampung_kb",
    suite="kkbpk_bulanan",
    columns=(
        Column("kampung_kb_id", "int", aliases=("id_kampung_kb", "id_kampung")),
        Column("nama_kampung", "str", required=False, aliases=("nama_kampung_kb",)),  # the portal export has it
        Column("kode_desa", "kode_wilayah", aliases=("kode_kelurahan", "kode_desa_kel", "kode_wilayah")),
        Column("tahun", "int"),
        BULAN,
        # not in DOMAIN.md's field list: a Pokja workbook has no submission date; when absent (or blank, or of an
        # order the file cannot tell) the report is dated by when its file arrived (tanggal_lapor_sumber says so)
        Column("tanggal_lapor", "date", required=False, aliases=("tgl_lapor", "tanggal_laporan"), fallback="received"),
        *_counts(*KKBPK_COUNTS),
    ),
)

PK_KELUARGA = Entity(
    region_column="kode_desa",
    name="pk_keluarga",
    period=Period("year", ("tahun_pendataan",)),
    key=("keluarga_id", "tahun_pendataan"),
    folder="bkkbn/pk_keluarga",
    description="Pendataan Keluarga family register: one row per family per PK round (pseudonymised).",
    group="bkkbn",
    suite="pk_keluarga",
    columns=(
        Column("id_keluarga", "pii", land_as="keluarga_id"),
        Column("no_kk", "pii", land_as="no_kk_hash"),
        Column("kode_desa", "kode_wilayah", aliases=("kode_kelurahan", "kode_wilayah")),
        Column("rw", "str", required=False),
        Column("rt", "drop", required=False),
        Column("no_rumah", "drop", required=False),
        Column("no_urut_keluarga", "drop", required=False),
        Column("tahun_pendataan", "int"),
        Column("jumlah_anggota", "int"),
        Column("pus", "int"),
        Column("usia_istri", "int"),
        Column("jumlah_anak_hidup", "int", nil_is_zero=True),
        Column("status_kb", "str"),
        Column("metode_kb", "str"),
        Column("sumber_air_layak", "int"),
        Column("jamban_layak", "int"),
        Column("rumah_layak", "int"),
        Column("desil", "int"),
        Column("punya_baduta", "int"),
        Column("punya_balita", "int"),
        Column("pus_hamil", "int"),
        Column("krs", "int"),
    ),
)

PROFIL_KAMPUNG_KB = Entity(
    region_column="kode_desa",
    name="profil_kampung_kb",
    period=MONTH_OF_REPORT,
    key=("kampung_kb_id", "tahun", "bulan"),
    folder="kampung_kb/profil",
    description="Kampung KB register and profile (portal export, yearly card and updates): one row per version.",
    group="kampung_kb",
    suite="profil_kampung_kb",
    columns=(
        Column("kampung_kb_id", "int", aliases=("id_kampung_kb", "id_kampung")),
        Column("nama_kampung", "str", aliases=("nama_kampung_kb",)),
        Column("kode_desa", "kode_wilayah", aliases=("kode_kelurahan", "kode_desa_kel", "kode_wilayah")),
        Column("rw", "str", required=False),
        Column("cakupan_wilayah", "str"),
        Column("tanggal_pencanangan", "date", aliases=("tgl_pencanangan",)),
        Column("latitude", "float", required=False, aliases=("lat",), grouping=False),
        Column("longitude", "float", required=False, aliases=("lon", "lng"), grouping=False),
        Column("tahun", "int"),
        BULAN,
        *_counts(
            "pokja_ada",
            "pokja_sk_ada",
            "pokja_jumlah",
            "pokja_terlatih_ada",
            "pokja_jumlah_terlatih",
            "plkb_pendamping_ada",
            "regulasi_ada",
        ),  # fmt: skip
        Column("regulasi_jenis", "int", required=False),
        *_counts("rkm_ada", "sekretariat_ada", "rumah_dataku_ada"),
        Column("rumah_dataku_klasifikasi", "str", required=False),
        *_counts("poktan_bkb", "poktan_bkr", "poktan_bkl", "poktan_uppka", "poktan_pikr"),
        Column("sumber_dana", "list", required=False),
        Column("penggunaan_data", "list", required=False),
        Column("mekanisme_operasional", "list", required=False),
        Column("is_active", "int"),
    ),
)

INTERVENSI = Entity(
    name="intervensi",
    period=Period("month", ("tanggal",)),
    key=("intervensi_id",),
    folder="kampung_kb/intervensi",
    description="Activity posts of Kampung KB (portal API, JSON lines): one row per event, partners as lists.",
    group="kampung_kb",
    suite="intervensi",
    columns=(
        Column("intervensi_id", "int", aliases=("id_intervensi", "id")),
        Column("kampung_kb_id", "int", aliases=("id_kampung_kb",)),
        Column("tanggal", "date", aliases=("tanggal_kegiatan", "tgl")),
        Column("judul", "str"),
        Column("tempat", "str", required=False),
        Column("jenis_post", "str"),
        Column("fungsi_keluarga", "str"),
        Column("sasaran", "list", required=False),
        Column("instansi", "list", required=False),
        Column("inpres_sasaran", "str", required=False),
    ),
    lookups={"kampung_kb_terdaftar": ("profil_kampung_kb", "kampung_kb_id")},
)

POSYANDU = Entity(
    region_column="kode_desa",
    name="posyandu",
    period=Period("year", ("tahun",)),
    key=("kode_posyandu", "tahun"),
    folder="posyandu/master",
    description="Posyandu master list: one row per posyandu and year.",
    group="posyandu",
    suite="posyandu",
    columns=(
        Column("kode_posyandu", "str"),
        Column("nama_posyandu", "str"),
        Column("kode_desa", "kode_wilayah", aliases=("kode_kelurahan", "kode_wilayah")),
        Column("kode_puskesmas", "str", required=False),
        Column("rw", "str", required=False),
        Column("strata", "str"),
        Column("jumlah_kader", "int", required=False, nil_is_zero=True),
        Column("tahun", "int"),
    ),
)

SKDN = Entity(
    region_column="kode_posyandu",
    name="skdn",
    period=MONTH_OF_REPORT,
    key=("kode_posyandu", "tahun", "bulan"),
    folder="posyandu/skdn",
    description="Monthly SKDN recap of a posyandu (S, K, D, N, BGM, stunting, pregnant women).",
    group="posyandu",
    suite="skdn",
    columns=(
        Column("kode_posyandu", "str"),
        Column("tahun", "int"),
        BULAN,
        Column("hari_buka", "int", required=False, nil_is_zero=True),
        *_counts(
            "s", "k", "d", "n", "bgm", "balita_diukur_tb", "pendek", "sangat_pendek", "bumil_datang", "bumil_kek"
        ),  # fmt: skip
    ),
)

EPPGBM = Entity(
    region_column="kode_posyandu",
    name="eppgbm",
    period=Period("month", ("tanggal_ukur",)),
    key=("nik_anak_hash", "tanggal_ukur"),
    folder="posyandu/eppgbm",
    description="e-PPGBM child measurements (pseudonymised; age in months instead of the birth date).",
    group="posyandu",
    suite="eppgbm",
    chunk_rows=250_000,
    columns=(
        Column("nik_anak", "pii", land_as="nik_anak_hash", aliases=("nik",)),
        Column("no_kk", "pii", required=False, land_as="no_kk_hash"),
        Column("nama_anak", "drop", required=False, aliases=("nama",)),
        Column(
            "tanggal_lahir",
            "birth_date",
            land_as="umur_bulan",
            age_at="tanggal_ukur",
            age_unit="months",
            max_age=59,
            aliases=("tgl_lahir",),
        ),  # fmt: skip
        Column("jenis_kelamin", "str", aliases=("jk",)),
        Column("kode_posyandu", "str"),
        Column("tanggal_ukur", "date", aliases=("tgl_ukur", "tanggal_pengukuran")),
        Column("berat_kg", "float", aliases=("berat", "bb"), grouping=False),
        Column("tinggi_cm", "float", aliases=("tinggi", "tb", "panjang_badan"), grouping=False),
        Column("cara_ukur", "str", required=False),
    ),
)

PK_ANGGOTA = Entity(
    region_column="id_keluarga",
    name="pk_anggota",
    key=("keluarga_id", "nomor_anggota"),
    folder="bkkbn/pk_anggota",
    description="PK family members, Blok I (pseudonymised; age in years at ingestion instead of the birth date).",
    group="bkkbn",
    suite="pk_anggota",
    chunk_rows=250_000,
    columns=(
        Column("id_keluarga", "pii", land_as="keluarga_id"),
        Column("nomor_anggota", "int", aliases=("no_anggota",)),
        Column("nik", "pii", land_as="nik_hash"),
        Column("nama", "drop", required=False),
        Column("jenis_kelamin", "int", aliases=("jk",)),
        Column("tanggal_lahir", "birth_date", land_as="umur_tahun", aliases=("tgl_lahir",)),
        Column("status_kawin", "int", required=False),
        Column("hubungan_kk", "int", aliases=("hubungan_dengan_kk",)),
        Column("agama", "int", required=False),
        Column("pendidikan", "int", required=False),
        Column("pekerjaan", "int", required=False),
        Column("jkn", "int", required=False),
    ),
)

POKTAN = Entity(
    region_column="kode_desa",
    name="poktan",
    period=MONTH_OF_REPORT,
    key=("kelompok_id", "tahun", "bulan"),
    folder="bkkbn/poktan",
    description="SIGA poktan register (BKB, BKR, BKL, UPPKA, PIK-R): one row per group and month.",
    group="bkkbn",
    suite="poktan",
    columns=(
        Column("kode_desa", "kode_wilayah", aliases=("kode_kelurahan", "kode_wilayah")),
        Column("jenis_poktan", "str"),
        Column("kelompok_id", "int", aliases=("id_kelompok",)),
        Column("tahun", "int"),
        BULAN,
        Column("jumlah_anggota", "int", nil_is_zero=True),
        Column("jumlah_hadir", "int", nil_is_zero=True),
        Column("ada_pertemuan", "int", required=False),
    ),
)

# In dependency order (a lookup's entity first); the Dagster assets follow this order.
ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (PROFIL_KAMPUNG_KB, KKBPK_BULANAN, INTERVENSI, POSYANDU, SKDN, EPPGBM, PK_KELUARGA, PK_ANGGOTA, POKTAN)
}
