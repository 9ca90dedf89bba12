"""`kkb bench`: wall time, throughput and peak memory of the generator and of a full pipeline run.

Each measured step runs as a child process on fresh temporary folders (nothing of raw/ or warehouse/ is touched),
so a cold start is included the way a nightly run sees it. Peak memory is the largest resident set of any process
of the step (the Python process or the dbt it starts), from getrusage(RUSAGE_CHILDREN) in a wrapper process.
Figures go to a JSON file (default bench/results.json) and are printed; the test suite never asserts timings.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipelines.config import REPO_ROOT

# A wrapper process per step, so RUSAGE_CHILDREN (a running maximum) covers that step and nothing before it.
_WRAPPER = (
    "import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
    "print('PEAK_KIB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(rc)"
)


def _kkb(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Run `kkb <args>` in a child; return wall seconds, the step's peak RSS in MiB, and its standard output."""
    kkb = str(Path(sys.executable).parent / "kkb")
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, kkb, *args], env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"kkb {' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    peak = re.search(r"PEAK_KIB (\d+)", proc.stdout)
    return seconds, round(int(peak[1]) / 1024) if peak else -1, proc.stdout


def run_bench(out_file: Path, repeats: int, provinsi: str, bulan: str, seed: int) -> dict:
    results: dict = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "data": {"provinsi": provinsi, "bulan": bulan, "seed": seed, "scale": 1.0},
        "generator": [],
    }
    with tempfile.TemporaryDirectory(prefix="kkb-bench-") as tmp:
        env = {**os.environ, "KKB_DEMO": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        for i in range(repeats):
            raw = Path(tmp) / f"raw{i}"
            args = ["synth", "--out", str(raw), "--provinsi", provinsi, "--bulan", bulan, "--seed", str(seed)]
            seconds, peak, output = _kkb(args, env)
            rate = re.search(r"family_rows_per_second: ([\d,]+)", output)
            results["generator"].append(
                {
                    "wall_s": round(seconds, 2),
                    "family_rows_per_second": int(rate[1].replace(",", "")) if rate else None,
                    "peak_rss_mib": peak,
                }
            )
        raw = Path(tmp) / "raw0"
        truth = json.loads((raw / "ground_truth.json").read_text())
        results["data"]["rows_written"] = {k: v["rows_written"] for k, v in truth["entities"].items()}
        warehouse = Path(tmp) / "warehouse"
        run_env = {**env, "KKB_RAW_DIR": str(raw), "KKB_WAREHOUSE_DIR": str(warehouse)}
        for label in ("pipeline_first_run", "pipeline_second_run"):
            seconds, peak, output = _kkb(["run"], run_env)
            taken = re.search(r"time taken: ([\d.]+) s", output)
            results[label] = {
                "wall_s": round(seconds, 2),
                "job_s": float(taken[1]) if taken else None,
                "peak_rss_mib": peak,
            }
            if label == "pipeline_first_run":
                results["ingestion_rows_per_second"] = {
                    m[1]: {"rows_read": int(m[2].replace(",", "")), "seconds": float(m[3]), "rows_per_second": m[4]}
                    for m in re.finditer(r"^  (\w+)\s+([\d,]+)\s+([\d.]+)\s+([\d,-]+)$", output, re.M)
                }
                summary = output.split("== Kampung KB pipeline summary", 1)[-1].split("PEAK_KIB")[0].strip()
                results["pipeline_first_run"]["summary"] = summary.splitlines()
        results["rebuild_one_month"] = rebuild_bench(run_env, bulan.split("..")[0].split(",")[0].strip())
        results["publish"] = publish_bench(warehouse / "kampung_kb.duckdb", Path(tmp) / "bi", repeats)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(json.dumps(results, indent=1) + "\n")
    return results


def rebuild_bench(env: dict[str, str], month: str) -> dict:
    """`kkb rebuild` of one month on the loaded warehouse: the largest monthly source alone, and the monthly report
    with everything downstream (models, publication)."""
    out = {}
    cases = {
        "eppgbm_landing_only": ["rebuild", "eppgbm", month, "--landing-only"],
        "kkbpk_bulanan_with_models_and_publish": ["rebuild", "kkbpk_bulanan", month],
    }
    for label, args in cases.items():
        seconds, peak, output = _kkb(args, env)
        m = re.search(r"(\d+) file\(s\) read, (\d+) rows landed, (\d+) quarantined", output)
        out[label] = {
            "period": month,
            "wall_s": round(seconds, 2),
            "peak_rss_mib": peak,
            "files_read": int(m[1]) if m else None,
            "rows_rebuilt": int(m[2]) + int(m[3]) if m else None,
        }
    return out


def publish_bench(warehouse: Path, bi_dir: Path, repeats: int) -> dict:
    """The BI publication alone (suppression, copy, audit, PII scan, verify, swap, Parquet), repeated."""
    from pipelines.lib import pg_serving, publish

    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        pub = publish.publish(
            warehouse, bi_dir, known_pseudonyms=publish.landed_pseudonyms(warehouse.parent / "landing")
        )
        seconds.append(round(time.perf_counter() - started, 2))
    pg: dict | str = "off (set KKB_PG_DSN to measure the PostgreSQL load)"
    target = pg_serving.target_from_env()
    if target is not None:
        started = time.perf_counter()
        rows = pg_serving.load(pub.path, target)
        pg = {"wall_s": round(time.perf_counter() - started, 2), "rows": sum(rows.values())}
    return {
        "postgres_load": pg,
        "wall_s": seconds,
        "bytes": pub.bytes,
        "tables": len(pub.tables),
        "rows": sum(pub.tables.values()),
        "cells_checked": pub.suppression.cells,
        "hidden_primary": pub.suppression.primary,
        "hidden_complementary": pub.suppression.complementary,
        "rounds": pub.suppression.rounds,
    }


def default_out() -> Path:
    return REPO_ROOT / "bench" / "results.json"
