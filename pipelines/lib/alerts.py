"""Alerts when a run fails: one JSON object per line, appended to a log someone watches (or ships elsewhere).

KKB_ALERT_LOG  where alerts go (default: <warehouse>/alerts.jsonl). Each record says when, which run and job, the
               failing steps and their reasons, and where to look (the run's page in the Dagster UI).
"""

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Alert:
    run_id: str
    job: str
    reason: str
    failed_steps: list[dict[str, str]] = field(default_factory=list)
    at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    severity: str = "error"
    ui: str = ""


def alert_log_path(warehouse_dir: Path) -> Path:
    return Path(os.environ.get("KKB_ALERT_LOG") or warehouse_dir / "alerts.jsonl")


def append(path: Path, alert: Alert) -> None:
    """Append one line (a single write of a complete line: readers never see half a record)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(asdict(alert), ensure_ascii=False) + "\n"
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
