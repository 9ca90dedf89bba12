"""The engines dbt builds the warehouse on: duckdb (the default: the embedded file), postgres and spark.

`kkb dbt --target <engine> <dbt arguments>` prepares what the engine needs, then runs dbt on the project with that
target: this virtualenv's dbt, or for Spark the dbt of .venv-spark/. For postgres the landing Parquet is loaded
first (pipelines/lib/pg_landing.py); Spark registers the files itself (the on-run-start hook,
dbt_project/macros/landing_tables.sql). The artifacts of the other engines go to dbt_project/target/<engine>/ so
they never replace the manifest Dagster reads.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipelines.config import DBT_PROJECT_DIR, REPO_ROOT, ConfigError, Settings

TARGETS = ("duckdb", "postgres", "spark")
# dbt-spark and pyspark live in a virtualenv of their own (pyproject.toml says why); same dbt-core, same pins
SPARK_DBT = REPO_ROOT / ".venv-spark" / "bin" / "dbt"


def dbt_executable(target: str) -> str:
    """This virtualenv's dbt (duckdb, postgres) or the Spark one's; refuses when `make spark-env` has not run."""
    if target != "spark":
        return str(Path(sys.executable).with_name("dbt"))
    if not SPARK_DBT.exists():
        raise ConfigError(f"{SPARK_DBT} is missing: run `make spark-env` (dbt-spark and pyspark, in .venv-spark/).")
    return str(SPARK_DBT)


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
    command = [dbt_executable(target), *args, "--project-dir", str(DBT_PROJECT_DIR)]
    command += ["--profiles-dir", str(DBT_PROJECT_DIR), "--target", target]
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
