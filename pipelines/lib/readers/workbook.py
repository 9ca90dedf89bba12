"""Workbooks: .xlsx / .xlsm (scanned first, then read in-process), .xls (in-process: its format bounds it), .xlsb /
.ods (read in a child process with a memory limit). calamine (Rust) reads them all; it lays a sheet out as a dense
grid from A1 to its furthest cell, so a workbook with one cell in a far corner would ask for hundreds of GB and
abort the process. Before calamine sees an .xlsx, `scan_xlsx` streams its sheets' XML: the furthest cell (the
extent), hidden rows and columns, formulas without a saved value, and the zip's real sizes (a zip bomb stops
there). An .xls cannot reach further than 65,536 rows x 256 columns. The other formats have no such scan: a child
process bounded in memory and time reads them, and a workbook that breaks it is refused.

Every sheet whose header matches is read; each row keeps its sheet (`_sheet`). What `conventions.py` says of
workbooks (hidden rows and sheets quarantined, hidden columns read, merged cells filled, rows below the table
skipped) is done here.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.lib import conventions as cv
from pipelines.lib.entities import Entity
from pipelines.lib.readers.common import (
    FileInfo,
    RejectedFile,
    all_empty,
    find_header,
    finish,
    map_header,
    not_data,
)

ZIP_FORMATS = (".xlsx", ".xlsm", ".xlsb", ".ods")
IN_PROCESS = (".xlsx", ".xlsm", ".xls")  # bounded before calamine lays them out (scan_xlsx; the .xls format)
CHILD_MEMORY = 6 << 30  # address space of the child reading .xls/.xlsb/.ods
CHILD_SECONDS = 300
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")


@dataclass
class SheetScan:
    """What an .xlsx sheet's XML says that calamine does not: 1-based rows hidden, 0-based columns hidden, 0-based
    (row, column) of formulas without a saved value, and how far the sheet reaches."""

    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)
    formulas_without_value: set[tuple[int, int]] = field(default_factory=set)
    max_row: int = 0
    max_col: int = 0


@dataclass
class Sheet:
    name: str
    visible: bool
    grid: list[list[Any]]
    merged: list[tuple[tuple[int, int], tuple[int, int]]]


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def check_zip(path: Path) -> zipfile.ZipFile:
    """The archive of a zip-based workbook, refused when it is not one or declares an absurd expansion."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise RejectedFile(f"cannot open the workbook (corrupt, cut short, or not a workbook): {exc}") from exc
    declared = sum(i.file_size for i in zf.infolist())
    limit = max(cv.EXPANSION_FLOOR, cv.MAX_EXPANSION * path.stat().st_size)
    if declared > limit:
        zf.close()
        raise RejectedFile(
            f"the workbook expands to {declared >> 20} MiB, more than {limit >> 20} MiB: a zip bomb? "
            "Save it again, or split it"
        )
    return zf


def scan_xlsx(path: Path) -> dict[str, SheetScan]:
    """Per sheet name: hidden rows/columns, formulas without a value, extent. Refuses a sheet reaching beyond
    conventions.MAX_SHEET_CELLS cells, and a zip whose parts are not what they declare."""
    zf = check_zip(path)
    out: dict[str, SheetScan] = {}
    try:
        targets = _sheet_targets(zf)
        for name, part in targets.items():
            if part not in zf.namelist():
                continue
            scan = SheetScan()
            with zf.open(part) as fh:
                _scan_sheet(fh, scan)
            cells = scan.max_row * (scan.max_col + 1)
            if cells > cv.MAX_SHEET_CELLS:
                raise RejectedFile(
                    f"sheet '{name}' reaches row {scan.max_row:,} and column {scan.max_col + 1:,} "
                    f"({cells:,} cells, more than {cv.MAX_SHEET_CELLS:,}): a stray cell far from the table? "
                    "Delete the empty rows and columns and save it again"
                )
            out[name] = scan
    except (zipfile.BadZipFile, ET.ParseError, KeyError, EOFError, ValueError) as exc:
        raise RejectedFile(f"cannot open the workbook (corrupt or cut short): {exc}") from exc
    finally:
        zf.close()
    return out


def _sheet_targets(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its XML part, from xl/workbook.xml and its relationships."""
    book = ET.fromstring(zf.read("xl/workbook.xml"))
    rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    by_id = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG_REL}Relationship")}
    out = {}
    for sheet in book.iter(f"{_NS}sheet"):
        target = by_id.get(sheet.get(f"{_REL}id"), "")
        part = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        out[sheet.get("name", "")] = part
    return out


def _scan_sheet(fh, scan: SheetScan) -> None:
    row = 0
    col = -1
    for event, el in ET.iterparse(fh, events=("start", "end")):
        tag = el.tag
        if event == "start":
            if tag == f"{_NS}row":
                r = el.get("r")
                row = int(r) if r else row + 1
                col = -1
                if el.get("hidden") in ("1", "true"):
                    scan.hidden_rows.add(row)
            continue
        if tag == f"{_NS}c":
            ref = el.get("r")
            m = _CELL_REF.fullmatch(ref) if ref else None
            col = _col_index(m.group(1)) if m else col + 1
            if m:
                row = int(m.group(2))
            v = el.find(f"{_NS}v")
            # an empty <v/> is no saved value, unless the formula's result is the empty string (t="str")
            has_value = (v is not None and (bool(v.text) or el.get("t") == "str")) or el.find(f"{_NS}is") is not None
            if el.find(f"{_NS}f") is not None and not has_value:
                scan.formulas_without_value.add((row - 1, col))
            if has_value or el.find(f"{_NS}f") is not None:
                scan.max_row = max(scan.max_row, row)
                scan.max_col = max(scan.max_col, col)
                if scan.max_row * (scan.max_col + 1) > cv.MAX_SHEET_CELLS:
                    return  # the caller refuses the sheet; no need to read on
            el.clear()
        elif tag == f"{_NS}col" and el.get("hidden") in ("1", "true"):
            lo, hi = int(el.get("min", "1")), int(el.get("max", "1"))
            scan.hidden_cols.update(range(lo - 1, min(hi, 16384)))
        elif tag == f"{_NS}row":
            el.clear()


# ---------------------------------------------------------------- calamine


def _load(path: Path) -> list[Sheet]:
    """Every sheet as a grid from A1 (calamine), with its visibility and merged ranges, in this process: an .xlsx
    that `scan_xlsx` has bounded, or an .xls, bounded by its format (65,536 rows x 256 columns: at most ~0.5 GB of
    cells in calamine, refused before they become Python objects when beyond MAX_SHEET_CELLS)."""
    from pipelines.lib.readers import calamine_child

    try:
        return [Sheet(**s) for s in calamine_child.load(str(path))]
    except calamine_child.TooLarge as exc:
        raise RejectedFile(str(exc)) from exc


def _load_in_child(path: Path) -> list[Sheet]:
    """The same in a child process with at most CHILD_MEMORY of address space and CHILD_SECONDS of time."""
    import pickle
    import resource
    import subprocess
    import sys

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))

    script = Path(__file__).with_name("calamine_child.py")
    try:
        done = subprocess.run(
            [sys.executable, str(script), str(path)],
            capture_output=True,
            timeout=CHILD_SECONDS,
            preexec_fn=limit,  # noqa: PLW1509 - no threads are started between fork and exec here
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RejectedFile(f"reading the workbook took longer than {CHILD_SECONDS} s; save it again as .xlsx") from exc
    if done.returncode != 0 or not done.stdout:
        raise RejectedFile(
            f"the workbook could not be read within {CHILD_MEMORY >> 30} GiB of memory (a stray cell far from the "
            "table, or a corrupt file); save it again as .xlsx"
        )
    result = pickle.loads(done.stdout)  # noqa: S301 - our own child's output
    if "error" in result:
        raise RejectedFile(f"cannot open the workbook (corrupt, or not what its name says): {result['error']}")
    return [Sheet(**s) for s in result["sheets"]]


def _cell_text(v: object) -> str:
    """The text a person sees in the cell: 1901012001.0 -> '1901012001'; dates -> ISO; None -> ''; a fraction in a
    form no locale misreads ('12.5e0': see conventions, numbers)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        r = repr(v)
        return r if "e" in r or "E" in r or r in ("nan", "inf", "-inf") else r + "e0"
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time | dt.timedelta):
        return str(v)
    return str(v).strip()


def _fill_merged(grid: list[list[Any]], merged, header_idx: int) -> set[int]:
    """A merged cell shows its value over every cell it covers: the header's spans name each column they cover; in
    the body, the value fills the range (a desa code merged down over its Kampung KB rows). Returns the header's
    columns filled so (a span over one field's two cells is one field, see `_header_names`)."""
    filled_header: set[int] = set()
    for (r0, c0), (r1, c1) in merged:
        if r1 < header_idx:
            continue
        value = grid[r0][c0] if r0 < len(grid) and c0 < len(grid[r0]) else None
        for r in range(max(r0, header_idx), min(r1 + 1, len(grid))):
            row = grid[r]
            for c in range(c0, min(c1 + 1, len(row))):
                if (r, c) != (r0, c0) and row[c] in (None, ""):
                    row[c] = value
                    if r == header_idx:
                        filled_header.add(c)
    return filled_header


def _header_names(header: list[Any], filled: set[int], entity: Entity, info: FileInfo) -> list[str | None]:
    """The header's names; a merged header cell that named one field twice (a wide 'Nama Kampung KB' over two
    cells) names it once, in its first cell."""
    try:
        return map_header(header, entity, info)
    except RejectedFile:
        if not filled:
            raise
        return map_header([None if c in filled else v for c, v in enumerate(header)], entity, info)


def _merged_counts(merged, header_idx: int, names: list[str | None], entity: Entity) -> dict[int, str]:
    """Body rows (0-based) covered by a cell merged down over a count or a measure: one figure for several rows,
    whose row it belongs to cannot be told (filled into each, it would be counted as often): row -> column."""
    out: dict[int, str] = {}
    for (r0, c0), (r1, c1) in merged:
        if r1 <= r0 or r0 <= header_idx:
            continue
        for c in range(c0, min(c1 + 1, len(names))):
            name = names[c]
            if name and (entity.column(name).nil_is_zero or entity.column(name).type == "float"):
                for r in range(r0, r1 + 1):
                    out.setdefault(r, name)
    return out


def read_workbook(path: Path, entity: Entity) -> tuple[FileInfo, Iterator[pd.DataFrame]]:
    suffix = path.suffix.lower()
    info = FileInfo(format=suffix.lstrip("."))
    scans: dict[str, SheetScan] = {}
    if suffix in IN_PROCESS:
        if suffix != ".xls":
            scans = scan_xlsx(path)
        try:
            sheets = _load(path)
        except RejectedFile:
            raise
        except Exception as exc:  # calamine's own errors (ZipError, XmlError, CalamineError)
            raise RejectedFile(f"cannot open the workbook (corrupt, or not a {suffix} file): {exc}") from exc
    else:
        if suffix in ZIP_FORMATS:
            check_zip(path).close()
        try:
            sheets = _load_in_child(path)
        except RejectedFile:
            raise
        except Exception as exc:
            raise RejectedFile(f"cannot open the workbook (corrupt, or not a {suffix} file): {exc}") from exc
    frames = []
    for sheet in sheets:
        frame = _read_sheet(sheet, scans.get(sheet.name, SheetScan()), entity, info)
        if frame is not None:
            frames.append(frame)
    if not frames:
        raise RejectedFile(
            f"no sheet has a header row with the expected columns (sheets: "
            f"{'; '.join(info.sheets) or 'none'}; expected columns such as "
            f"{', '.join(c.name for c in entity.columns if c.required)[:200]})"
        )
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if out.empty and not info.skipped:
        info.note = "header only: no rows"
    return info, iter([out])


def _read_sheet(sheet: Sheet, scan: SheetScan, entity: Entity, info: FileInfo) -> pd.DataFrame | None:
    grid = sheet.grid
    try:
        header_idx = find_header(grid, entity)
    except RejectedFile:
        state = "" if sheet.visible else ", hidden"
        info.sheets.append(f"{sheet.name} (not read: no header row{state})")
        return None
    filled_header = _fill_merged(grid, sheet.merged, header_idx)
    if not info.sheets or all("not read" in s for s in info.sheets):
        info.header_row = header_idx + 1
    names = _header_names(grid[header_idx], filled_header, entity, info)
    known = [(i, n) for i, n in enumerate(names) if n]
    first_known = known[0][0]
    lead_idx = sorted(set(range(first_known)) | {i for i, _ in known[:2]})
    body = grid[header_idx + 1 :]
    first = header_idx + 2  # the 1-based row of body[0]
    cols = {
        i: [_cell_text(row[i]) if i < len(row) else "" for row in body] for i in {*lead_idx, *(i for i, _ in known)}
    }
    df = pd.DataFrame({n: cols[i] for i, n in known}, dtype="str")
    rows = np.arange(first, first + len(body), dtype=np.int64)
    df["_row"] = rows
    df["_sheet"] = sheet.name
    errors = np.array([""] * len(body), dtype=object)
    if not sheet.visible:
        errors[:] = "hidden_sheet"
    for r in scan.hidden_rows:
        if first <= r < first + len(body) and errors[r - first] == "":
            errors[r - first] = "hidden_row"
    for r, c in sorted(scan.formulas_without_value):
        k = r - (header_idx + 1)
        if 0 <= k < len(body) and c < len(names) and names[c] and errors[k] == "":
            errors[k] = f"formula_without_value:{names[c]}"
    for r, name in _merged_counts(sheet.merged, header_idx, names, entity).items():
        k = r - (header_idx + 1)
        if 0 <= k < len(body) and errors[k] == "":
            errors[k] = f"merged_cell:{name}"
    df["_error"] = errors.astype(str)
    # rows below the table: after the last row that fills at least half of the required columns present
    required = [i for i, n in known if entity.column(n).required]
    filled = np.zeros(len(body), dtype=int)
    for i in required:
        filled += np.fromiter((v != "" for v in cols[i]), dtype=bool, count=len(body))
    # ... or that names its record (the entity's key: a row with its figures left blank is still a row)
    key = [i for i, n in known if n in entity.key]
    named = np.ones(len(body), dtype=bool) if key else np.zeros(len(body), dtype=bool)
    for i in key:
        named &= np.fromiter((v != "" for v in cols[i]), dtype=bool, count=len(body))
    data_like = np.flatnonzero((filled >= max(1, (len(required) + 1) // 2)) | named)
    last = data_like[-1] if data_like.size else -1
    below = np.arange(len(df)) > last
    lead = not_data(pa.table({f"c{i}": cols[i] for i in lead_idx}), entity, [f"c{i}" for i in lead_idx])
    why = np.asarray(lead.to_numpy(zero_copy_only=False), dtype=object)
    why[below & (why == "")] = "below the table (signature, place and date, notes)"
    state = "read" if sheet.visible else "hidden: its rows quarantined"
    hidden_cols = sorted(c for c in scan.hidden_cols if c < len(names) and names[c])
    extra = f", hidden columns read: {', '.join(str(names[c]) for c in hidden_cols)}" if hidden_cols else ""
    info.sheets.append(f"{sheet.name} ({state}, header on row {header_idx + 1}{extra})")
    empty = all_empty([cols[i] for i, _ in known], len(body))
    return finish(df, entity, info, pa.array(why, pa.string()), sheet=sheet.name, empty=empty)
