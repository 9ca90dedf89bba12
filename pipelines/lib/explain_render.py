"""An explanation (pipelines/lib/explain.py) as text for a terminal, as JSON for machines, or as Markdown."""

from __future__ import annotations

import json
from typing import Any

from tabulate import tabulate  # type: ignore[import-untyped]

from pipelines.lib.explain import Explanation


def render_json(e: Explanation) -> str:
    return json.dumps(e.as_dict(), ensure_ascii=False, indent=2, default=str)


def _n(v: Any) -> str:
    return "–" if v is None else f"{v:,}" if isinstance(v, int) else str(v)


def _pct(v: float | None) -> str:
    return "no value (denominator 0)" if v is None else f"{v:.1f} %"


def _where(c: dict[str, Any]) -> str:
    if not c.get("file"):
        return ""
    if c.get("rows") is not None:  # rows of one file, summed
        return f"{c['file']} ({c['rows']:,} rows, {c['row']}..{c['last_row']})"
    sheet = f"#{c['sheet']}" if c.get("sheet") else ""  # the workbook sheet: file.xlsx#Januari:6
    return f"{c['file']}{sheet}:{c['row']}" if c.get("row") is not None else c["file"]


def _unit(c: dict[str, Any]) -> str:
    name = c.get("unit_nama")
    return f"{c.get('unit_id')} {name}" if name else str(c.get("unit_id"))


def headline(e: Explanation) -> list[str]:
    num = " + ".join(e.numerator_columns)
    where = f"{e.nama} ({e.kode})" if e.nama else e.kode
    check = (
        "the contributions below add up to the published numerator and denominator"
        if e.sums_match and e.value_matches
        else "WARNING: the contributions below do NOT add up to the published figures; the warehouse may be "
        "half-built (re-run dbt) or this is a bug: please report it"
    )
    return [
        f"{e.label} ({e.indikator}), {where}, {e.periode}: {_pct(e.value)}   [{e.mart}]",
        f"  = {num} {e.numerator:,} / {e.denominator_column} {e.denominator:,} x 100   ({e.formula})",
        f"  from {len(e.contributions):,} contribution{'' if len(e.contributions) == 1 else 's'}, one per "
        f"{e.contribution_unit}; {check}.",
        *(f"  note: {n}" for n in e.notes),
    ]


def _left_out_lines(e: Explanation) -> list[str]:
    lines: list[str] = []
    if e.expected is not None:
        lines += ["", f"Left out: {len(e.left_out)} of {e.expected:,} expected units"]
        for r in e.left_out:
            where = (
                f" ({r['file']}" + (f":{r['row']}" if r.get("row") is not None else "") + ")" if r.get("file") else ""
            )
            lines.append(
                f"  {_unit(r)}, desa {r.get('nama_desa')} ({r.get('kode_desa')}): {r['why']}: {r['reason']}{where}"
            )
    if e.quarantined_other:
        lines += ["", "Other quarantined rows of this area and month (not counted):"]
        for r in e.quarantined_other:
            if "rows" in r:
                lines.append(f"  {r['rows']:,} rows in {r['files']} file(s): {r['reason']}")
            else:
                lines.append(f"  {r.get('unit_id')}: {r['reason']} ({r['file']}:{r['row']})")
    if e.rejected_files:
        lines += ["", "Rejected files that may hold rows of this area and month (not read):"]
        lines += [f"  {r['file']}: {r['reason']}" for r in e.rejected_files]
    return lines


def _superseded_lines(e: Explanation) -> list[str]:
    if not e.superseded:
        return ["", "Superseded submissions: none"]
    lines = ["", f"Superseded submissions ({len(e.superseded)}), replaced by a later one and not counted:"]
    for r in e.superseded:
        figures = f" pa_total {r['pa_total']}, jml_pus {r['jml_pus']}," if "pa_total" in r else ""
        sent = f" sent {r['tanggal_lapor']}," if r.get("tanggal_lapor") else ""
        lines.append(
            f"  {r['unit_id']}:{sent}{figures} {r['file']}:{r['row']} -> replaced by "
            f"{r['superseded_by_file']}:{r['superseded_by_row']}"
        )
    return lines


def render_text(e: Explanation) -> str:
    figures = [*e.numerator_columns, e.denominator_column]
    rows = [
        [
            _unit(c),
            f"{c.get('nama_desa') or ''} {c.get('kode_desa') or ''}".strip(),
            *(_n(c["figures"].get(f)) for f in figures),
            _where(c),
            "replaces " + _where(c["supersedes"]) if c.get("supersedes") else "",
        ]
        for c in e.contributions
    ]
    table = tabulate(rows, headers=["unit", "desa", *figures, "file:row", ""], tablefmt="simple", disable_numparse=True)
    return "\n".join([*headline(e), "", table, *_left_out_lines(e), *_superseded_lines(e)]) + "\n"


def render_markdown(e: Explanation) -> str:
    figures = [*e.numerator_columns, e.denominator_column]
    rows = [
        [_unit(c), c.get("nama_desa") or "", *(_n(c["figures"].get(f)) for f in figures), f"`{_where(c)}`"]
        for c in e.contributions
    ]
    body = tabulate(rows, headers=["unit", "desa", *figures, "file:row"], tablefmt="github", disable_numparse=True)
    rest = [
        f"- {x.strip()}" if x.startswith("  ") else (f"**{x}**" if x else x)
        for x in [*_left_out_lines(e), *_superseded_lines(e)]
    ]
    return "\n".join(["\n".join(f"{x}  " for x in headline(e)), "", body, *rest]) + "\n"
