"""New files in the raw folder: what the raw-folder sensor starts a run for.

A file is new when its path is not in the manifest yet (renamed copies are new paths: the run records them as
duplicates by content hash). A file still being copied is left for the next tick: it must not have changed for
KKB_SETTLE_SECONDS (default 60).
"""

import hashlib
import os
import time
from dataclasses import dataclass

from pipelines.config import Settings
from pipelines.lib import manifest as mf
from pipelines.lib.entities import ENTITIES


@dataclass(frozen=True)
class Arrival:
    entity: str
    path: str
    size: int
    mtime_ns: int


def settle_seconds() -> float:
    return float(os.environ.get("KKB_SETTLE_SECONDS", "60"))


def new_files(settings: Settings, now: float | None = None) -> tuple[list[Arrival], int]:
    """Files not in the manifest and settled; plus how many unsettled ones were left for later."""
    now = time.time() if now is None else now
    seen = {r["path"] for r in mf.read_manifest(settings)}
    settled, waiting = [], 0
    for entity in ENTITIES.values():
        for path in mf.discover(settings.raw_dir, entity.folder):
            rel = str(path.relative_to(settings.raw_dir))
            if rel in seen:
                continue
            st = path.stat()
            if now - st.st_mtime < settle_seconds():
                waiting += 1
                continue
            settled.append(Arrival(entity.name, rel, st.st_size, st.st_mtime_ns))
    return settled, waiting


def run_key(arrivals: list[Arrival]) -> str:
    """The same set of arrivals never starts two runs."""
    text = "\n".join(f"{a.path}|{a.size}|{a.mtime_ns}" for a in sorted(arrivals, key=lambda a: a.path))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
