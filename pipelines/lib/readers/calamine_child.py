"""Run as a script (`python calamine_child.py WORKBOOK`) by workbook.py: read every sheet of a workbook with calamine
and write them to stdout as a pickle. A separate process, bounded in memory by its parent, because calamine aborts
the whole process when a sheet asks for more memory than there is. Imports nothing of the pipeline (starts fast)."""

import pickle
import sys

MAX_CELLS = 10_000_000  # conventions.MAX_SHEET_CELLS (this script imports nothing of the pipeline)


class TooLarge(Exception):
    """A sheet reaches further than MAX_CELLS cells."""


def load(path: str) -> list[dict]:
    import python_calamine as pc

    wb = pc.CalamineWorkbook.from_path(path)
    out = []
    try:
        for meta in wb.sheets_metadata:
            if str(meta.typ).rsplit(".", 1)[-1] not in ("WorkSheet", "Worksheet"):
                continue
            sheet = wb.get_sheet_by_name(meta.name)
            try:
                merged = list(sheet.merged_cell_ranges or [])
            except Exception:  # not every format has merged regions in calamine
                merged = []
            end = sheet.end or (0, 0)  # the furthest cell, 0-based (None: an empty sheet)
            if (end[0] + 1) * (end[1] + 1) > MAX_CELLS:
                raise TooLarge(
                    f"sheet '{meta.name}' reaches row {end[0] + 1:,} and column {end[1] + 1:,}, more than "
                    f"{MAX_CELLS:,} cells: a stray cell far from the table? Delete the empty rows and columns"
                )
            out.append(
                {
                    "name": meta.name,
                    "visible": str(meta.visible).rsplit(".", 1)[-1] == "Visible",
                    "grid": sheet.to_python(skip_empty_area=False),
                    "merged": merged,
                }
            )
    finally:
        wb.close()
    return out


if __name__ == "__main__":
    result: dict[str, object]
    try:
        result = {"sheets": load(sys.argv[1])}
    except TooLarge as exc:
        result = {"error": str(exc)}
    except Exception as exc:  # a corrupt file: the parent refuses it with this reason
        result = {"error": f"{type(exc).__name__}: {exc}"}
    pickle.dump(result, sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)
