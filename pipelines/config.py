"""Where things live, read from the environment once per call (no import-time side effects).

KKB_RAW_DIR        source files as delivered (default: raw/ in the repo)
KKB_WAREHOUSE_DIR  everything the pipeline writes (default: warehouse/ in the repo); the DuckDB warehouse is
                   kampung_kb.duckdb inside it
KKB_PII_KEY        the HMAC key that pseudonymises NIK / No. KK (required; `KKB_DEMO=1` allows a demo key)
KKB_DUCKDB_MEMORY  DuckDB's memory limit for dbt and every connection the pipeline opens (default 2GB); beyond it
                   DuckDB spills to warehouse/.duckdb_tmp/. With the Python process around it the whole run stays
                   within 4 GiB (`make bench`)
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"

DEMO_PII_KEY = "kampung-kb-demo-key-not-for-real-data"

log = logging.getLogger(__name__)


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says what to do."""


@dataclass(frozen=True)
class Settings:
    raw_dir: Path
    warehouse_dir: Path

    @property
    def duckdb_path(self) -> Path:
        return self.warehouse_dir / "kampung_kb.duckdb"

    @property
    def landing_dir(self) -> Path:
        return self.warehouse_dir / "landing"

    @property
    def manifest_dir(self) -> Path:
        return self.landing_dir / "_manifest"

    @property
    def quarantine_dir(self) -> Path:
        return self.warehouse_dir / "quarantine"

    @property
    def bi_dir(self) -> Path:
        """What BI tools read (pipelines/lib/publish.py): never the warehouse file itself."""
        return self.warehouse_dir / "bi"

    @property
    def report_dir(self) -> Path:
        """The Kampung KB report (pipelines/lib/report.py): index.html and plotly.min.js."""
        return self.warehouse_dir / "report"

    @property
    def reference_dir(self) -> Path:
        return self.warehouse_dir / "reference"

    @property
    def duckdb_temp_dir(self) -> Path:
        """Where DuckDB spills what does not fit in its memory limit."""
        return self.warehouse_dir / ".duckdb_tmp"

    def dbt_env(self) -> dict[str, str]:
        """Variables dbt reads (paths and limits only: never the PII key, dbt writes env_var() values into
        artifacts)."""
        return {
            "KKB_WAREHOUSE_DIR": str(self.warehouse_dir),
            "KKB_DUCKDB_MEMORY": duckdb_memory_limit(),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }


def duckdb_memory_limit() -> str:
    """KKB_DUCKDB_MEMORY (e.g. '2GB', '1500MB'); refuses anything DuckDB would not read as a size."""
    value = os.environ.get("KKB_DUCKDB_MEMORY", "").strip() or "2GB"
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value, flags=re.IGNORECASE):
        raise ConfigError(f"KKB_DUCKDB_MEMORY={value!r} is not a size such as 2GB or 1500MB.")
    return value


def settings() -> Settings:
    raw = Path(os.environ.get("KKB_RAW_DIR") or REPO_ROOT / "raw").expanduser().resolve()
    wh = Path(os.environ.get("KKB_WAREHOUSE_DIR") or REPO_ROOT / "warehouse").expanduser().resolve()
    return Settings(raw_dir=raw, warehouse_dir=wh)


def pii_key() -> bytes:
    """The HMAC key. Refuses to run without one unless this is the demo (KKB_DEMO=1), and says so loudly."""
    key = os.environ.get("KKB_PII_KEY", "")
    if key:
        if len(key) < 16:
            raise ConfigError("KKB_PII_KEY is shorter than 16 characters; use a long random secret.")
        return key.encode()
    if os.environ.get("KKB_DEMO") == "1":
        log.warning(
            "!!! KKB_PII_KEY is not set: using the PUBLIC DEMO KEY. Pseudonyms made with it are NOT protected. "
            "Never run real data like this: set KKB_PII_KEY to a secret. !!!"
        )
        return DEMO_PII_KEY.encode()
    raise ConfigError(
        "KKB_PII_KEY is not set. It is the secret that pseudonymises NIK and No. KK (HMAC-SHA256). "
        "Set it to a long random value (e.g. `export KKB_PII_KEY=$(openssl rand -hex 32)`) and keep it safe; "
        "for the generated demo data only, set KKB_DEMO=1 to use the public demo key."
    )
