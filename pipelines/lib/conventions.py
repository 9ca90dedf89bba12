"""How Indonesian offices write numbers, dates and tables: the one place where the readers' and the typing's
conventions live (DOMAIN.md section 3.4). README "What a delivered file may look like" is this module in prose, and
`tests/deliveries/` holds one file per convention with its expected outcome.

The principle: a value is read right, or its row goes to quarantine with a reason that names the problem (the file is
rejected when the problem is the whole file's). Nothing here guesses silently: where two readings of a value differ
and nothing in the file tells them apart, the value is *ambiguous* and its row is quarantined.

Numbers
  The decimal mark of a file is learnt from its own unambiguous numbers (evidence): `12,5`, `0,25`, `1.234,5` or
  `1.234.567` say the comma is the decimal mark (Indonesian Excel); `12.5`, `2001.0`, `1,234.5` say the point is.
  A file with evidence of both is in *conflict*; a file with none is *unknown*.
  - count (int) columns: `1234`, `+12`, `12.0` / `12,00` (decimal zeros), a thousands group `1.234` / `12.500` /
    `1.234.567` (also `1,234` when the file's decimal mark is not the comma, and `1 234` with a space or no-break
    space), `1.234,00`. A group of three digits after a mark the file itself uses as its decimal mark is
    `ambiguous_number` (is `1.000` one, or a thousand?). A lone dash (`-`, `–`, `—`) in a count column is nil: 0,
    as printed forms write it; a blank cell is *not* nil (a cell nobody filled in): `missing_value` where required.
  - measure (float) columns: `12,5` and `12.5`, `1.234,5` and `1,234.5`, `.5`, `1e3`; a single group of three digits
    (`1.234`, `12,500`) is read by the file's decimal mark, and is `ambiguous_number` when the file has none or both.
    A measure never written with thousands separators (a child's weight and height, a coordinate: `grouping=False`)
    reads its one `.` or `,` as the decimal mark: `12.500` kg is 12.5 kg, `-2.054` is a latitude.
  - a leading apostrophe (`'0123`, Excel's "number stored as text") is dropped before typing, in every column type.
Dates
  - `YYYY-MM-DD` (also `/`, one-digit parts, a time after it), Excel serial day numbers (5 digits), an Excel date cell.
  - `DD/MM/YYYY` or `MM/DD/YYYY` (also `-` or `.` between the parts): the order of a file is learnt from its
    unambiguous dates (a first part above 12 is a day: day-first; a second part above 12: month-first). A date whose
    two first parts are both 12 or less (and differ) is read by that order; in a file with no evidence, or with
    evidence of both, it is `ambiguous_date`.
  - month names, Indonesian or English, full or short: `2 April 2024`, `02-Apr-24`, `2 Agt 2024`, `Senin, 2 April
    2024`, `April 2, 2024`; a `bulan` column also takes `Maret`, `MAR`, `3`.
  - two-digit years: an event date (report, measurement, activity, launch) is 20YY (19YY when 20YY would be more than
    a year ahead); a birth date takes the century that gives a plausible age (`Column.max_age`), and is
    `two_digit_year` when both centuries do (born 1920 or 2020?).
Tables
  - a totals row (`JUMLAH`, `TOTAL`, `Jumlah Kec. …`) and an example row (`CONTOH`) are not data: skipped, and the
    manifest lists them with their row numbers; so are the rows below a workbook's table (place and date, "Ketua
    Pokja", a name: a signature block), never kept as quarantine records since they may name a person.
  - a row with more or fewer fields than the header (an unquoted decimal comma in a `,` file, a stray delimiter) is
    quarantined as `field_count` with its line number; its fields are never shifted onto other columns.
  - workbooks: every sheet whose header matches is read (`_sheet` in the lineage); a sheet without one is named in
    the manifest. A hidden row or a hidden sheet that has the header is quarantined (`hidden_row`, `hidden_sheet`:
    unhide it and send it again if it is data); hidden columns are read (templates hide their code columns).
    A merged cell in the body fills every cell it covers (what the reader of the sheet sees), except a count or a
    measure merged down over several rows: those rows are quarantined, `merged_cell` (one figure, whose row?). A
    header cell merged over two cells names its field once. A formula is read by
    its saved value; a formula without one (a workbook written by a program and never opened in Excel) is
    `formula_without_value`.
"""

from __future__ import annotations

import re

# ---------------------------------------------------------------- numbers

NIL_MARKS = ("-", "\u2013", "\u2014")  # '-', en dash, em dash: nil on a printed form, in count columns only
# characters that may group thousands besides '.' and ',': space, no-break space, thin space, narrow no-break space
GROUP_SPACES = " \u00a0\u2009\u202f"

# ---------------------------------------------------------------- dates

MONTHS: dict[str, int] = {}
for _n, _names in enumerate(
    (
        ("januari", "january", "jan"),
        ("februari", "february", "pebruari", "feb", "peb"),
        ("maret", "march", "mar"),
        ("april", "apr"),
        ("mei", "may"),
        ("juni", "june", "jun"),
        ("juli", "july", "jul"),
        ("agustus", "august", "agu", "agt", "ags", "agst", "aug"),
        ("september", "sep", "sept"),
        ("oktober", "october", "okt", "oct"),
        ("november", "nopember", "nov", "nop"),
        ("desember", "december", "des", "dec"),
    ),
    start=1,
):
    for _name in _names:
        MONTHS[_name] = _n

WEEKDAYS = (
    "senin", "selasa", "rabu", "kamis", "jumat", "jum'at", "sabtu", "minggu", "ahad",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
)  # fmt: skip
EXCEL_SERIAL_DIGITS = 5  # 10000..99999: 1927-05-18 .. 2173-10-14

# ---------------------------------------------------------------- rows that are not data

TOTALS = re.compile(r"^(jumlah|total|jml|grand\s*total|sub\s*-?\s*total)\b", re.IGNORECASE)
EXAMPLE = re.compile(r"^[(\[]?\s*contoh\b", re.IGNORECASE)
# in free-text columns (names, titles) only a cell that is nothing but the word counts: "Jumlah peserta naik" is a title
TOTALS_EXACT = re.compile(
    r"^(jumlah|total|jml|grand\s*total|sub\s*-?\s*total|jumlah\s+total|total\s+keseluruhan)\s*:?$", re.I
)
EXAMPLE_EXACT = re.compile(r"^[(\[]?\s*contoh(\s+pengisian)?\s*[)\]]?\s*:?$", re.IGNORECASE)

# ---------------------------------------------------------------- limits (bounded memory, whatever arrives)

MAX_LINE_BYTES = 8 << 20  # one CSV/JSONL line; beyond it the file is refused (a line of gigabytes is no record)
MAX_EXPANSION = 200  # a gzip or zip member may expand to this many times its compressed size ...
EXPANSION_FLOOR = 512 << 20  # ... or to this size, whichever is larger; beyond it: a decompression bomb
MAX_SHEET_CELLS = 10_000_000  # a sheet declaring more rows x columns than this is refused before it is loaded
HEADER_SEARCH_ROWS = 30  # title rows a secretary may type above the header

# ---------------------------------------------------------------- what the quarantine says

# row-level problems found while reading and typing (the suites' rules have their own reasons in their JSON)
ROW_PROBLEMS: dict[str, str] = {
    "type_error": "the value cannot be read as the column's type",
    "ambiguous_number": "a group of three digits after a mark this file uses as its decimal mark (or a file with "
    "no decimal mark of its own): a thousand or a fraction? Write the number without thousands separators",
    "ambiguous_date": "day-first or month-first cannot be told: no date of this file has a day above 12 (or some "
    "are day-first and some month-first). Write dates as YYYY-MM-DD or with the month's name",
    "two_digit_year": "a two-digit birth year that fits two centuries (1920 or 2020?). Write the year in full",
    "field_count": "the line has more or fewer fields than the header (an unquoted decimal comma or a stray "
    "delimiter?); its values were not read, to avoid shifting them onto other columns",
    "hidden_row": "the row is hidden in the workbook; unhide it and send the file again if it is data",
    "hidden_sheet": "the sheet is hidden in the workbook; unhide it and send the file again if it is data",
    "merged_cell": "a count or measure merged down over several rows: whose figure it is cannot be told (filled into "
    "each row it would be counted as often); write it in one row",
    "formula_without_value": "a formula with no saved value (the workbook was never opened and saved in a "
    "spreadsheet program); open it, save it, and send it again",
    "invalid_json": "the line is not a JSON object",
}


def explain(label: str) -> str:
    """`rule:column` of a reading/typing problem -> the text the quarantine shows; other labels unchanged."""
    rule, _, column = label.partition(":")
    text = ROW_PROBLEMS.get(rule)
    if text is None:
        return label
    return f"{rule}:{column} ({text})" if column else f"{rule} ({text})"
