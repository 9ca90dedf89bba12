"""Write validated rows as Parquet: landed rows under landing/<entity>/<batch>/<period>/, failing rows under
quarantine/<entity>/<batch>/<period>/, each a few part files (<period> is bulan-2024-03, tahun-2024 or
tanpa-periode, see periods.py; an entity without a period has its parts directly in the batch folder). Parts are
written to a staging folder first and moved into place only when the batch commits (see manifest.py), so a crash
never leaves half a batch visible."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.lib.entities import Entity
from pipelines.lib.periods import folder_name
from pipelines.lib.pii import pseudonymise

_ARROW = {
    "int": pa.int64(),
    "float": pa.float64(),
    "date": pa.date32(),
    "str": pa.string(),
    "kode_wilayah": pa.string(),
    "list": pa.list_(pa.string()),
}

LINEAGE = [
    ("_file", pa.string()),
    ("_file_sha256", pa.string()),
    ("_row", pa.int64()),
    ("_batch", pa.string()),
    ("_ingested_at", pa.timestamp("us")),
]

# the workbook sheet of a row (null for text files): (_file, _sheet, _row) is one row of a delivered file
SHEET = ("_sheet", pa.string())

QUARANTINE_SCHEMA = pa.schema(
    [
        *LINEAGE,
        ("entity", pa.string()),
        ("failed_rules", pa.list_(pa.string())),
        ("reasons", pa.string()),
        ("record", pa.string()),
        SHEET,
    ]
)


def landing_schema(entity: Entity) -> pa.Schema:
    return pa.schema([(n, _ARROW[t]) for n, t in entity.landing_columns] + LINEAGE + [SHEET])


def to_landing(typed: pd.DataFrame, entity: Entity, key: bytes) -> pd.DataFrame:
    """Valid typed rows -> landing shape: PII pseudonymised, personal columns dropped, integers as integers."""
    out = pd.DataFrame(index=typed.index)
    for c in entity.columns:
        if c.type == "drop":
            continue
        if c.fallback:
            out[f"{c.name}_sumber"] = typed[f"{c.name}_sumber"]
        if c.type == "pii":
            out[c.land_as or f"{c.name}_hash"] = pseudonymise(typed[c.name], key)
        elif c.type == "birth_date":
            name = c.land_as or "umur"
            out[name] = typed[name].astype("Int64")
        elif c.type == "list":
            out[c.name] = typed[c.name].map(lambda v: v.split(", "), na_action="ignore")
        elif c.type == "int":
            out[c.name] = typed[c.name].astype("Int64")
        elif c.type == "date":
            out[c.name] = typed[c.name].dt.date
        else:
            out[c.name] = typed[c.name]
    return out


def quarantine_records(raw: pd.DataFrame, entity: Entity, key: bytes) -> list[str]:
    """The rows as they were sent (text), for a person to read, minus personal data: PII hashed, names dropped."""
    out = raw.drop(columns=[c for c in ("_row", "_file", "_file_sha256", "_sheet", "_error") if c in raw])
    for c in entity.columns:
        if c.name not in out:
            continue
        if c.type in ("drop", "birth_date"):
            out = out.drop(columns=c.name)
        elif c.type == "pii":
            out[c.name] = pseudonymise(out[c.name], key)
    return [json.dumps(r, ensure_ascii=False, default=str) for r in out.to_dict("records")]


class PartWriter:
    """Numbered Parquet parts in a staging folder, each tagged so a rejected file's parts can be discarded."""

    def __init__(self, folder: Path, schema: pa.Schema):
        self.folder = folder
        self.schema = schema
        self.parts: dict[Path, str] = {}

    def write(self, frame: pd.DataFrame, tag: str, periods: pd.Series | None = None) -> None:
        """Write `frame` as part files; with `periods` (a key per row), one part per period in its folder."""
        if frame.empty:
            return
        if periods is None:
            self._write_part(self.folder, frame, tag)
            return
        folders = periods.reindex(frame.index).map(folder_name, na_action=None)
        for name, rows in frame.groupby(folders, sort=True):
            self._write_part(self.folder / str(name), rows, tag)

    def _write_part(self, folder: Path, frame: pd.DataFrame, tag: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"part-{len(self.parts):05d}.parquet"
        table = pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False)
        pq.write_table(table, path, compression="zstd")
        self.parts[path] = tag

    def discard(self, tag: str) -> None:
        for path in [p for p, t in self.parts.items() if t == tag]:
            path.unlink(missing_ok=True)
            del self.parts[path]

    def move_to(self, dest: Path) -> bool:
        """Move the staging folder to `dest` in one rename. False if there was nothing to move."""
        if not self.parts:
            return False
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            shutil.rmtree(dest)
        self.folder.rename(dest)
        return True


def ensure_schema_file(folder: Path, schema: pa.Schema) -> None:
    """An empty Parquet file under <folder>/_schema/ so readers (dbt) find the table even before any data."""
    path = folder / "_schema" / "empty.parquet"
    if path.exists() and pq.read_schema(path).equals(schema):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(schema.empty_table(), path)


def parquet_rows(folder: Path) -> int:
    """Rows in every Parquet part under `folder` (from the file footers, no data read); the schema file has none."""
    if not folder.is_dir():
        return 0
    return sum(pq.ParquetFile(p).metadata.num_rows for p in folder.rglob("*.parquet"))
