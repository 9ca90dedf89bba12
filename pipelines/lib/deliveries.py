"""When is a batch broken enough to stop the night? Judged per delivery, not on the batch as a whole.

A *delivery* is what one sender sent: a file of at least `min_rows` rows (a portal export, a register of a
kabupaten), or else all the small files of one kabupaten/kota in the batch (the Pokja workbooks of a kabupaten; a
file names its kabupaten by its rows' first region code, `FileRecord.wilayah`; files whose rows name none are pooled
as one delivery of unknown region). A delivery of at least `min_rows` rows with more than `max_share` of them
quarantined is *broken*: a feed whose columns shifted, an export in another format, a wrong code list. A few bad
reports of one kabupaten, or a handful of bad rows in a large register, are not: their rows are quarantined with
their reasons and the rest of the province goes on.

KKB_MAX_BAD_ROW_SHARE (default 0.5, "most rows") and KKB_MIN_DELIVERY_ROWS (default 100) set the two numbers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipelines.config import ConfigError
from pipelines.lib.manifest import FileRecord

DEFAULT_MAX_BAD_ROW_SHARE = 0.5
DEFAULT_MIN_DELIVERY_ROWS = 100


def max_bad_row_share() -> float:
    value = os.environ.get("KKB_MAX_BAD_ROW_SHARE", "").strip()
    try:
        share = float(value) if value else DEFAULT_MAX_BAD_ROW_SHARE
    except ValueError as exc:
        raise ConfigError(f"KKB_MAX_BAD_ROW_SHARE={value!r} is not a number between 0 and 1.") from exc
    if not 0 <= share <= 1:
        raise ConfigError(f"KKB_MAX_BAD_ROW_SHARE={value!r} is not a number between 0 and 1.")
    return share


def min_delivery_rows() -> int:
    value = os.environ.get("KKB_MIN_DELIVERY_ROWS", "").strip()
    try:
        return int(value) if value else DEFAULT_MIN_DELIVERY_ROWS
    except ValueError as exc:
        raise ConfigError(f"KKB_MIN_DELIVERY_ROWS={value!r} is not a whole number of rows.") from exc


@dataclass
class Delivery:
    name: str  # the file's path, or "kabupaten/kota 19.01 (12 files)"
    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_quarantined: int = 0

    @property
    def share(self) -> float:
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0


def deliveries(files: Iterable[FileRecord], min_rows: int) -> list[Delivery]:
    """The loaded files of a batch grouped into deliveries (see the module's doc), largest first."""
    out: list[Delivery] = []
    pooled: dict[str, Delivery] = {}
    for f in files:
        if f.status != "loaded" or f.rows_read == 0:
            continue
        if f.rows_read >= min_rows:
            out.append(Delivery(f.path, [f.path], f.rows_read, f.rows_quarantined))
            continue
        region = f.wilayah or "?"
        d = pooled.setdefault(region, Delivery(region))
        d.files.append(f.path)
        d.rows_read += f.rows_read
        d.rows_quarantined += f.rows_quarantined
    for region, d in pooled.items():
        where = f"kabupaten/kota {region}" if region != "?" else "files naming no region"
        d.name = f"{where} ({len(d.files)} small file{'s' if len(d.files) > 1 else ''})"
        out.append(d)
    return sorted(out, key=lambda d: (-d.rows_read, d.name))


def broken(found: list[Delivery], max_share: float, min_rows: int) -> list[Delivery]:
    """The deliveries large enough to judge whose quarantined share is above `max_share`, worst first."""
    return sorted(
        (d for d in found if d.rows_read >= min_rows and d.share > max_share), key=lambda d: (-d.share, d.name)
    )
