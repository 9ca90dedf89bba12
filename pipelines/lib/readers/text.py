"""CSV and JSON lines, plain or gzip: one scan of the whole file decides how to read it, then a fast reader.

The scan (`prescan`) reads every byte once, in blocks, in bounded memory: it decides the encoding on all of the
file (UTF-8, UTF-8 with BOM, Windows-1252, UTF-16 with or without BOM; a file mixing UTF-8 and Windows-1252 is
refused), measures the longest line (a line over conventions.MAX_LINE_BYTES refuses the file: no record is that long)
and the line ends, refuses a file with NUL bytes that is not UTF-16, and stops a gzip that expands beyond
conventions.MAX_EXPANSION times its size (a decompression bomb).

CSV rows are read by Arrow's CSV reader; a row with more or fewer fields than the header makes the reader start over
with Python's csv module from the first row it had not handed on, which numbers every line exactly and marks such a
row `field_count` (its fields are never shifted). A CSV row's `_row` is its line in the file (a value spanning lines
counts as one line in the fast reader).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from pipelines.lib import conventions as cv
from pipelines.lib.entities import Entity, normalise_header
from pipelines.lib.readers.common import (
    FileInfo,
    RejectedFile,
    all_empty,
    find_header,
    finish,
    header_score,
    map_header,
    not_data,
)

BLOCK = 4 << 20
HEAD_BYTES = 1 << 20  # the header must be within the first MiB (title lines included)
CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def is_gzip(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def open_bytes(path: Path):
    """The file's bytes, decompressed when it is gzip (ISA-L: 3x zlib's speed for the large registers)."""
    from isal import igzip

    return igzip.open(path, "rb") if is_gzip(path) else open(path, "rb")  # noqa: SIM115


@dataclass
class Scan:
    encoding: str
    line_ends: str
    bytes: int


def prescan(path: Path) -> Scan:
    """Read the whole (decompressed) file once and decide how to decode it; RejectedFile with the reason when it
    cannot be read as text."""
    compressed = path.stat().st_size
    limit = max(cv.EXPANSION_FLOOR, cv.MAX_EXPANSION * compressed) if is_gzip(path) else None
    total = 0
    line_len = 0  # bytes since the last line end
    longest = 0
    line = 1
    lf = crlf = cr = 0
    pending_cr = False
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = True
    first_bad: tuple[int, int] | None = None  # (offset, line) of the first byte that is not UTF-8
    multibyte_at: int | None = None  # line of a valid UTF-8 multibyte sequence
    cp1252_bad: tuple[int, int, int] | None = None
    bom = b""
    try:
        with open_bytes(path) as fh:
            while block := fh.read(BLOCK):
                if total == 0:
                    bom = block[:4]
                    if bom.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_without_bom(block):
                        return _scan_utf16(path, block, fh, limit)
                    if b"\x00" in block:
                        raise RejectedFile("not a text file (it holds NUL bytes): send CSV, XLSX or JSON lines")
                total += len(block)
                if limit is not None and total > limit:
                    raise RejectedFile(
                        f"the gzip expands to more than {limit >> 20} MiB ({cv.MAX_EXPANSION}x its size or "
                        f"{cv.EXPANSION_FLOOR >> 20} MiB): a decompression bomb? Send it uncompressed or split"
                    )
                if b"\x00" in block:
                    raise RejectedFile("not a text file (it holds NUL bytes): send CSV, XLSX or JSON lines")
                arr = np.frombuffer(block, dtype=np.uint8)
                ends = np.flatnonzero((arr == 10) | (arr == 13))
                if ends.size:
                    longest = max(longest, line_len + int(ends[0]), int(np.diff(ends).max(initial=0)))
                    line_len = len(block) - int(ends[-1]) - 1
                    n_lf = int((arr == 10).sum())
                    n_cr = int((arr == 13).sum())
                    pairs = int(((arr[:-1] == 13) & (arr[1:] == 10)).sum()) + int(pending_cr and arr[0] == 10)
                    lf += n_lf - pairs
                    crlf += pairs
                    cr += n_cr - pairs
                    line += n_lf + n_cr - pairs
                else:
                    line_len += len(block)
                longest = max(longest, line_len)
                pending_cr = bool(arr[-1] == 13)
                if longest > cv.MAX_LINE_BYTES:
                    raise RejectedFile(
                        f"a line near line {line} is longer than {cv.MAX_LINE_BYTES >> 20} MiB: not a table "
                        "(a broken export, or no line ends at all)"
                    )
                if block.isascii():
                    continue
                if utf8_ok:
                    try:
                        utf8.decode(block)
                    except UnicodeDecodeError as exc:
                        utf8_ok = False
                        first_bad = (total - len(block) + exc.start, line)
                if multibyte_at is None and _UTF8_MULTIBYTE.search(block):
                    multibyte_at = line
                if cp1252_bad is None:
                    undefined = [b for b in CP1252_UNDEFINED if bytes([b]) in block]  # memchr, not a Python loop
                    if undefined:
                        byte = min(undefined)
                        cp1252_bad = (byte, total - len(block) + block.index(bytes([byte])), line)
            if utf8_ok:
                try:
                    utf8.decode(b"", final=True)
                except UnicodeDecodeError:
                    utf8_ok, first_bad = False, (total, line)
    except (OSError, EOFError, zlib.error) as exc:
        raise RejectedFile(f"cannot read the file (a broken gzip or an interrupted copy?): {exc}") from exc
    if total == 0:
        raise RejectedFile("the file is empty (0 bytes): an upload or copy that failed?")
    line_ends = _line_ends(lf, crlf, cr)
    if utf8_ok:
        return Scan("utf-8-sig" if bom.startswith(codecs.BOM_UTF8) else "utf-8", line_ends, total)
    assert first_bad is not None
    if cp1252_bad is not None:
        byte, offset, at = cp1252_bad
        raise RejectedFile(
            f"text is neither UTF-8 nor Windows-1252 (byte {byte:#04x} at offset {offset}, line {at}); "
            "save the file again as CSV UTF-8"
        )
    if multibyte_at is not None:
        raise RejectedFile(
            f"the file mixes encodings: UTF-8 text (line {multibyte_at}) and a byte that is not UTF-8 (offset "
            f"{first_bad[0]}, line {first_bad[1]}); it cannot be decoded one way. Save it again as CSV UTF-8"
        )
    return Scan("cp1252", line_ends, total)


def _utf16_without_bom(block: bytes) -> bool:
    """Text with a NUL after (or before) nearly every ASCII character: UTF-16 without its byte-order mark."""
    sample = block[:4096]
    if len(sample) < 8 or b"\x00" not in sample:
        return False
    odd, even = sample[1::2], sample[0::2]
    return odd.count(0) > 0.9 * len(odd) or even.count(0) > 0.9 * len(even)


def _scan_utf16(path: Path, first: bytes, fh, limit: int | None) -> Scan:
    if first.startswith(codecs.BOM_UTF16_LE) or first.startswith(codecs.BOM_UTF16_BE):
        encoding = "utf-16"
    else:
        encoding = "utf-16-le" if first[1::2].count(0) > first[0::2].count(0) else "utf-16-be"
    decoder = codecs.getincrementaldecoder(encoding)()
    total, longest, line_len, line = 0, 0, 0, 1
    block = first
    try:
        while block:
            total += len(block)
            if limit is not None and total > limit:
                raise RejectedFile(f"the gzip expands to more than {limit >> 20} MiB: a decompression bomb?")
            text = decoder.decode(block)
            pieces = re.split(r"\r\n|\r|\n", text)
            if len(pieces) > 1:
                longest = max(longest, line_len + len(pieces[0]), *(len(p) for p in pieces[1:-1]))
                line_len = len(pieces[-1])
                line += len(pieces) - 1
            else:
                line_len += len(text)
            if max(longest, line_len) * 2 > cv.MAX_LINE_BYTES:
                raise RejectedFile(f"a line near line {line} is longer than {cv.MAX_LINE_BYTES >> 20} MiB")
            block = fh.read(BLOCK)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise RejectedFile(f"the file starts as UTF-16 but is not valid UTF-16 near line {line}: {exc.reason}") from exc
    return Scan(encoding, "?", total)


def _line_ends(lf: int, crlf: int, cr: int) -> str:
    kinds = [name for name, n in (("LF", lf), ("CRLF", crlf), ("CR", cr)) if n]
    return "mixed" if len(kinds) > 1 else (kinds[0] if kinds else "none")


def _text_stream(path: Path, encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(open_bytes(path), encoding=encoding, errors="strict", newline="")


# ---------------------------------------------------------------- CSV


def _head_rows(path: Path, encoding: str) -> list[str]:
    """The first lines (at most HEAD_BYTES of text), each with its line end, for the header search."""
    with _text_stream(path, encoding) as text:
        head = text.read(HEAD_BYTES)
    lines = head.splitlines(keepends=True)
    if len(lines) > 1 and len(head) == HEAD_BYTES:
        lines = lines[:-1]  # the last one may be cut
    return lines[: cv.HEADER_SEARCH_ROWS]


def _sniff(lines: list[str], entity: Entity) -> tuple[str, list[list[str]], int]:
    """The delimiter under which a header row names the most known columns (ties: the one splitting the first lines
    into most fields), the head parsed with it, and the header's index."""
    best = None
    for d in (";", ",", "\t", "|"):
        rows = list(csv.reader(lines, delimiter=d))
        scores = [header_score(r, entity) for r in rows]
        top = max(scores, default=0)
        fields = max((len(r) for r in rows), default=0)
        key = (top, fields)
        if best is None or key > best[0]:
            best = (key, d, rows)
    assert best is not None
    _, delimiter, rows = best
    return delimiter, rows, find_header(rows, entity)


class _Restart(Exception):
    """The fast reader met a row with another number of fields: the exact reader takes over."""


def read_csv(path: Path, entity: Entity) -> tuple[FileInfo, Iterator[pd.DataFrame]]:
    scan = prescan(path)
    info = FileInfo(format="csv", encoding=scan.encoding, line_ends=scan.line_ends)
    try:
        head = _head_rows(path, scan.encoding)
    except UnicodeDecodeError as exc:  # the scan decided the encoding on all of the file: should not happen
        raise RejectedFile(f"cannot decode the file as {scan.encoding}: {exc.reason}") from exc
    if not any(line.strip() for line in head):
        raise RejectedFile("the file holds no text (only blank lines)")
    delimiter, parsed, header_idx = _sniff(head, entity)
    info.delimiter = delimiter
    info.header_row = header_idx + 1
    header = parsed[header_idx]
    names = map_header(header, entity, info)
    width = len(header)
    first_known = next(i for i, n in enumerate(names) if n)
    known_idx = [i for i, n in enumerate(names) if n]
    lead_idx = sorted(set(range(first_known)) | set(known_idx[:2]))

    def chunks() -> Iterator[pd.DataFrame]:
        handed = 0  # data rows (blank ones included) handed on
        try:
            for frame in _fast(path, scan.encoding, delimiter, header_idx, width, names, lead_idx, entity, info):
                handed += frame.attrs["rows"]
                yield frame
        except _Restart:
            yield from _exact(path, scan.encoding, delimiter, header_idx, width, names, lead_idx, entity, info, handed)

    return info, _with_empty_note(chunks(), info)


def _with_empty_note(frames: Iterator[pd.DataFrame], info: FileInfo) -> Iterator[pd.DataFrame]:
    """The frames as they come; a file that gave none (and skipped none) is noted as header only."""
    rows = 0
    for frame in frames:
        rows += len(frame)
        yield frame
    if rows == 0 and not info.skipped:
        info.note = "header only: no rows (an export of a month with no entries?)"


def _frame_from_columns(
    columns: dict[int, pa.Array], names, lead_idx, first_row: int, entity: Entity, info: FileInfo, sheet=None
) -> pd.DataFrame:
    n = len(next(iter(columns.values()))) if columns else 0
    known = {names[i]: columns[i] for i in columns if names[i]}
    table = pa.table(known) if known else pa.table({})
    lead = not_data(pa.table({f"c{i}": columns[i] for i in lead_idx}), entity, [f"c{i}" for i in lead_idx])
    df = table.to_pandas() if known else pd.DataFrame(index=range(n))
    df["_row"] = np.arange(first_row, first_row + n, dtype=np.int64)
    df["_sheet"] = sheet
    df["_error"] = ""
    out = finish(df, entity, info, lead, empty=all_empty(list(known.values()), n))
    out.attrs["rows"] = n
    return out


def _fast(path, encoding, delimiter, header_idx, width, names, lead_idx, entity, info) -> Iterator[pd.DataFrame]:
    bad: list[int] = []

    def on_invalid(row) -> str:
        bad.append(1)
        return "skip"

    keep = sorted({i for i, n in enumerate(names) if n} | set(lead_idx))
    col_names = [f"c{i}" for i in range(width)]
    reader = pacsv.open_csv(
        pa.input_stream(str(path), compression="gzip" if is_gzip(path) else None),
        read_options=pacsv.ReadOptions(
            skip_rows=header_idx + 1,
            column_names=col_names,
            encoding="utf8" if encoding in ("utf-8", "utf-8-sig") else encoding,
            block_size=16 << 20,
            use_threads=True,
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter, ignore_empty_lines=False, invalid_row_handler=on_invalid, newlines_in_values=False
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in col_names},
            include_columns=[col_names[i] for i in keep],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    next_row = header_idx + 2
    try:
        for batch in reader:
            if bad:
                raise _Restart
            for start in range(0, batch.num_rows, entity.chunk_rows):  # chunks of the entity's size: bounded memory
                piece = batch.slice(start, entity.chunk_rows)
                columns = {i: piece.column(col_names[i]) for i in keep}
                frame = _frame_from_columns(columns, names, lead_idx, next_row, entity, info)
                next_row += piece.num_rows
                yield frame
        if bad:
            raise _Restart
    except pa.ArrowInvalid as exc:
        if bad:
            raise _Restart from exc
        raise RejectedFile(f"cannot parse as CSV near line {next_row}: {str(exc)[:200]}") from exc


def _exact(
    path, encoding, delimiter, header_idx, width, names, lead_idx, entity, info, handed
) -> Iterator[pd.DataFrame]:
    """Python's csv module, line by line: exact line numbers; a row of another width is a `field_count` problem."""
    known = [i for i, n in enumerate(names) if n]
    size = max(1, entity.chunk_rows)
    buf: dict[int, list[str]] = {i: [] for i in known}
    lead_buf: dict[int, list[str]] = {i: [] for i in lead_idx}  # from every row, even one of another width
    rows: list[int] = []
    errors: list[str] = []

    def flush() -> pd.DataFrame:
        df = pd.DataFrame({names[i]: buf[i] for i in known}, dtype="str")
        df["_row"] = np.array(rows, dtype=np.int64)
        df["_sheet"] = None
        df["_error"] = errors
        lead = not_data(pa.table({f"c{i}": lead_buf[i] for i in lead_idx}), entity, [f"c{i}" for i in lead_idx])
        out = finish(df, entity, info, lead)
        for b in (buf, lead_buf):
            for i in b:
                b[i] = []
        rows.clear()
        errors.clear()
        return out

    with _text_stream(path, encoding) as text:
        reader = csv.reader(text, delimiter=delimiter)
        line = 0
        seen = -1 - header_idx  # rows before the first data row: the header and the lines above it
        try:
            for record in reader:
                start = line + 1
                line = reader.line_num
                seen += 1
                if seen <= 0 or seen <= handed:
                    continue
                if len(record) > width and not any(v.strip() for v in record[width:]):
                    record = record[:width]  # empty fields after the last column (a trailing delimiter): nothing shifts
                wrong = bool(record) and len(record) != width
                for i in known:
                    buf[i].append(record[i] if record and not wrong else "")
                for i in lead_idx:
                    lead_buf[i].append(record[i] if i < len(record) else "")
                errors.append(f"field_count:line {start} has {len(record)} fields, the header {width}" if wrong else "")
                rows.append(start)
                if len(rows) >= size:
                    yield flush()
        except csv.Error as exc:
            raise RejectedFile(f"cannot parse as CSV near line {line + 1}: {exc}") from exc
    if rows:
        yield flush()


# ---------------------------------------------------------------- JSON lines


def _json_text(v: object) -> str:
    """A JSON value as the text a CSV cell would hold; a non-integral number in a form no locale misreads."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    if isinstance(v, dict):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        r = repr(v)
        return r if "e" in r or "E" in r else r + "e0"
    return str(v)


def read_jsonl(path: Path, entity: Entity) -> tuple[FileInfo, Iterator[pd.DataFrame]]:
    scan = prescan(path)
    if scan.encoding not in ("utf-8", "utf-8-sig"):
        raise RejectedFile(f"JSON lines must be UTF-8; this file is {scan.encoding}")
    info = FileInfo(format="jsonl", encoding=scan.encoding, line_ends=scan.line_ends)
    mapping = entity.header_map

    def chunks() -> Iterator[pd.DataFrame]:
        records: list[dict[str, str]] = []
        rows: list[int] = []
        errors: list[str] = []
        seen_keys: set[str] = set()
        checked = False

        def frame() -> pd.DataFrame:
            nonlocal checked
            keys = {k for r in records for k in r}
            if not checked and any(not e for e in errors):
                missing = [c.name for c in entity.columns if c.required and c.name not in keys]
                if missing:
                    raise RejectedFile(f"required field(s) missing: {', '.join(missing)}")
                checked = True
            cols = [c.name for c in entity.columns if c.name in keys]
            df = pd.DataFrame({c: [r.get(c, "") for r in records] for c in cols}, dtype="str")
            df["_row"] = np.array(rows, dtype=np.int64)
            df["_sheet"] = None
            df["_error"] = errors
            return finish(df, entity, info)

        with _text_stream(path, scan.encoding) as text:
            for lineno, line in enumerate(text, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    obj = None
                if not isinstance(obj, dict):
                    records.append({})
                    errors.append("invalid_json")
                else:
                    rec = {}
                    for k, v in obj.items():
                        canon = mapping.get(normalise_header(k))
                        if canon is None:
                            if k not in seen_keys:
                                seen_keys.add(k)
                                info.unknown_columns.append(k)
                            continue
                        rec[canon] = _json_text(v)
                    records.append(rec)
                    errors.append("")
                rows.append(lineno)
                if len(rows) >= entity.chunk_rows:
                    yield frame()
                    records, rows, errors = [], [], []
        if rows:
            yield frame()

    return info, chunks()
