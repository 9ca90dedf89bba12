"""The engines dbt builds the warehouse on: duckdb (the default: the embedded file), postgres and spark.

`kkb dbt --target <engine> <dbt arguments>` prepares what the engine needs, then runs this virtualenv's dbt on the
project with that target: for postgres it loads the landing Parquet first (pipelines/lib/pg_landing.py); Spark
registers the files itself (the on-run-start hook, dbt_project/macros/landing_tables.sql). The artifacts of the
other engines go to dbt_project/target/<engine>/ so they never replace the manifest Dagster reads.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipelines.config import DBT_PROJECT_DIR, ConfigError, Settings

TARGETS = ("duckdb", "postgres", "spark")
DBT = str(Path(sys.executable).with_name("dbt"))


def target_from_env() -> str:
    target = os.environ.get("KKB_DBT_TARGET", "").strip() or "duckdb"
    if target not in TARGETS:
        raise ConfigError(f"KKB_DBT_TARGET={target!r}: use one of {', '.join(TARGETS)}.")
    return target


def engine_env(target: str) -> dict[str, str]:
    """Variables the engine itself needs. Spark in local mode binds to the loopback address (it would otherwise look
    the host's name up and warn); on a cluster (KKB_SPARK_MASTER set to a cluster) the driver keeps its address."""
    env = {"KKB_DBT_TARGET": target}
    master = os.environ.get("KKB_SPARK_MASTER", "local[2]")
    if target == "spark" and master.startswith("local") and "SPARK_LOCAL_IP" not in os.environ:
        env["SPARK_LOCAL_IP"] = "127.0.0.1"
    return env


def dbt_env(settings: Settings, target: str) -> dict[str, str]:
    return {**os.environ, **settings.dbt_env(), **engine_env(target)}


def dbt_command(target: str, args: list[str] | tuple[str, ...]) -> list[str]:
    command = [DBT, *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    command += ["--target", target]
    if target != "duckdb":
        command += ["--target-path", str(DBT_PROJECT_DIR / "target" / target)]
    return command


def prepare(settings: Settings, target: str) -> str:
    """What the engine needs before dbt runs; returns a line to print."""
    if target != "postgres":
        return ""
    from pipelines.lib import pg_landing

    loaded = pg_landing.sync(settings, pg_landing.conninfo())
    fresh = {k: v for k, v in loaded.items() if not v.skipped}
    rows = sum(v.rows for v in fresh.values())
    return f"PostgreSQL landing: {len(fresh)} table(s) loaded ({rows:,} rows), {len(loaded) - len(fresh)} unchanged"


def run_dbt(settings: Settings, target: str, args: list[str] | tuple[str, ...]) -> int:
    """Prepare the engine, run dbt, return its exit code."""
    line = prepare(settings, target)
    if line:
        print(line, flush=True)
    return subprocess.run(dbt_command(target, args), env=dbt_env(settings, target), cwd=DBT_PROJECT_DIR).returncode
