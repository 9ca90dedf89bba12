"""What each source entity looks like: its landing folder, its columns and their types, header aliases, which
columns are personal data. The one declarative place that maps what providers send onto what we land.

Column types:
  int / float   numbers (decimal comma accepted for float; "12.0" accepted for int)
  str           text, trimmed; empty is null
  date          YYYY-MM-DD, DD/MM/YYYY, DD-MM-YYYY or an Excel serial number
  kode_wilayah  a Kemendagri code, normalised to the dotted form ("1901012001" -> "19.01.01.2001")
  pii           NIK / No. KK / family id: validated as delivered, landed only as HMAC-SHA256 (`land_as`)
  drop          personal data read (so the row lines up) and dropped at the door (names, addresses, birth dates)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Legacy words renamed by the portal over the years; applied to every header word of every entity.
LEGACY_WORDS: dict[str, str] = {"uppks": "uppka", "pik": "pikr", "ingin_anak_kemudian": "iat"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = True  # must be present in the file's header, or the file is rejected
    aliases: tuple[str, ...] = ()
    land_as: str | None = None  # landing name for `pii` columns


@dataclass(frozen=True)
class Entity:
    name: str  # landing table and Dagster asset name
    folder: str  # folder under the raw dir where providers drop files
    description: str
    columns: tuple[Column, ...]
    suite: str  # Great Expectations suite in expectations/gx/expectations/<suite>.json
    group: str  # source family: kampung_kb, posyandu, bkkbn
    chunk_rows: int = 200_000
    extra: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def header_map(self) -> dict[str, str]:
        """Normalised header (and alias) -> canonical column name."""
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
            else:
                out.append((c.name, c.type))
        return out


_NON_WORD = re.compile(r"[^0-9a-z]+")


def plain_header(text: object) -> str:
    """'  JML PUS ' -> 'jml_pus': case, spacing and punctuation folded, words kept."""
    return _NON_WORD.sub("_", str(text).strip().lower()).strip("_")


def normalise_header(text: object) -> str:
    """plain_header, then legacy words mapped: 'Ikut UPPKS' -> 'ikut_uppka'."""
    h = plain_header(text)
    for old, new in LEGACY_WORDS.items():
        h = re.sub(rf"(^|_){old}($|_)", rf"\g<1>{new}\g<2>", h)
    return h


def _counts(*names: str) -> tuple[Column, ...]:
    return tuple(Column(n, "int") for n in names)


KKBPK_COUNTS = (
    "jml_jiwa", "jml_keluarga", "jml_pus", "jml_remaja", "kel_balita", "kel_remaja", "kel_lansia",
    "pa_iud", "pa_mow", "pa_mop", "pa_implan", "pa_suntik", "pa_pil", "pa_kondom",
    "non_kb_hamil", "non_kb_ias", "non_kb_iat", "non_kb_tial",
    "ikut_bkb", "ikut_bkr", "ikut_bkl", "ikut_uppka", "ikut_pikr", "pengguna_bpjs",
)  # fmt: skip

KKBPK_BULANAN = Entity(
    name="kkbpk_bulanan",
    folder="kampung_kb/laporan_bulanan",
    description="Monthly KKBPK report of a Kampung KB (Pokja workbook or portal CSV export), one row per submission.",
    group="kampung_kb",
    suite="kkbpk_bulanan",
    columns=(
        Column("kampung_kb_id", "int", aliases=("id_kampung_kb", "id_kampung")),
        Column("kode_desa", "kode_wilayah", aliases=("kode_kelurahan", "kode_desa_kel", "kode_wilayah")),
        Column("tahun", "int"),
        Column("bulan", "int"),
        Column("tanggal_lapor", "date", aliases=("tgl_lapor", "tanggal_laporan")),
        *_counts(*KKBPK_COUNTS),
    ),
)

PK_KELUARGA = Entity(
    name="pk_keluarga",
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
        Column("jumlah_anak_hidup", "int"),
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

ENTITIES: dict[str, Entity] = {e.name: e for e in (KKBPK_BULANAN, PK_KELUARGA)}
