"""The warehouse folder must be writable and have room before a run writes anything; when it is not, the error
says so in plain words. Raw files are only ever read, so they are untouched whatever happens here. Also which
failures are transient (a lock held by another process, a share that blinked): those are retried."""

import errno
import os
import re
import shutil
import uuid
from pathlib import Path

# Failures worth retrying: another process holds the DuckDB lock, a file share or server blinked.
TRANSIENT = re.compile(
    r"Could not set lock on file|Conflicting lock is held|Resource temporarily unavailable|Connection (refused|reset)"
    r"|Stale file handle|Input/output error|timed out|Temporary failure",
    re.IGNORECASE,
)


def is_transient(message: str) -> bool:
    return bool(TRANSIENT.search(message or ""))


FULL = {errno.ENOSPC, errno.EDQUOT}
NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR}


def min_free_bytes() -> int:
    return int(float(os.environ.get("KKB_MIN_FREE_MB", "200")) * 1024 * 1024)


def preflight(warehouse_dir: Path) -> None:
    """Create the folder if needed, prove a file can be written and removed, and check the free space."""
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    probe = warehouse_dir / f".write-probe-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"ok")
    finally:
        probe.unlink(missing_ok=True)
    free = shutil.disk_usage(warehouse_dir).free
    if free < min_free_bytes():
        raise OSError(errno.ENOSPC, f"only {free / 2**20:.1f} MiB free, at least {min_free_bytes() / 2**20:.0f} needed")


def storage_problem(exc: OSError, warehouse_dir: Path) -> str | None:
    """A sentence for an operator when `exc` means the warehouse disk is full or the folder not writable."""
    tail = (
        "Nothing of this batch was committed and the raw files are untouched; fix it, then re-run "
        "(KKB_MIN_FREE_MB sets the free space required before a run, default 200)."
    )
    if exc.errno in FULL:
        return f"The warehouse disk is full ({warehouse_dir}: {exc.strerror or exc}). {tail}"
    if (exc.errno in NOT_WRITABLE or isinstance(exc, PermissionError)) and _inside(exc.filename, warehouse_dir):
        return f"The warehouse folder is not writable ({exc.filename}: {exc.strerror or exc}). {tail}"
    return None  # e.g. a raw file that cannot be read: not a storage problem of the warehouse


def _inside(filename: object, folder: Path) -> bool:
    if not filename:
        return False
    try:
        return Path(str(filename)).resolve().is_relative_to(folder.resolve())
    except OSError:
        return False
